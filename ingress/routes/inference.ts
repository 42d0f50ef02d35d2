import type { FastifyPluginAsync, FastifyReply } from "fastify";
import type { InboundApi } from "../../calls/apis/api.ts";
import { callerWentAway, collect, failureToError } from "../../calls/apis/completion.ts";
import { type CallServices, startCall } from "../../calls/call.ts";
import { streamFrames, wholeAnswer } from "../../calls/deliver.ts";
import { errorToAnswer, statusOf } from "../../calls/errors.ts";
import { clientClosedStatus, RequestObservation } from "../../calls/metrics.ts";
import { gatewayHeaders, readSteering } from "../../calls/steering.ts";
import type { ReplyEvent } from "../../schemas/reply-event.ts";
import { sendErrorIn } from "../errors.ts";
import { sseHeaders, writeFrame } from "../sse.ts";

/** Says what the answer cache did: hit, miss, refresh, bypass or unavailable. */
const cacheHeader = gatewayHeaders.cache;

export interface InferenceOptions {
  apis: ReadonlyArray<InboundApi<unknown>>;
  services: CallServices;
}

declare module "fastify" {
  interface FastifyRequest {
    observation: RequestObservation;
  }
}

/**
 * POST routes of the inference APIs. A streamed answer starts (status 200, SSE headers) only with
 * its first event, so that a request failing before any content gets a plain HTTP error the SDKs
 * raise as the right exception; after that, failures become the API's in-stream error event.
 */
export const inferenceRoutes: FastifyPluginAsync<InferenceOptions> = async (app, options) => {
  app.decorateRequest("observation");

  for (const api of options.apis) {
    app.register(async (scope) => {
      scope.setErrorHandler((error, request, reply) =>
        sendErrorIn(reply, errorToAnswer(error, request.log), api.shape),
      );
      scope.addHook("onRequest", async (request, reply) => {
        const observation = new RequestObservation(options.services.metrics, api.name);
        request.observation = observation;
        // Counted once the response is over, refused requests too, with the status the client got.
        reply.raw.once("close", () =>
          observation.end(reply.raw.writableFinished ? reply.raw.statusCode : clientClosedStatus),
        );
        app.authenticate(request);
      });
      scope.post(api.path, async (request, reply) => {
        // One request at a time on an HTTP/1.1 connection: what its socket writes from here is this answer.
        const socket = request.raw.socket;
        const bytesBefore = socket.bytesWritten;
        const call = await startCall(
          api,
          request.body,
          request.caller,
          readSteering(request.headers),
          options.services,
          request.observation,
          {
            requestBytes: Number(request.headers["content-length"] ?? 0),
            responseBytes: () => socket.bytesWritten - bytesBefore,
            traceHeaders: request.headers,
          },
        );
        reply.headers(call.headers);
        if (call.cacheStatus) reply.header(cacheHeader, call.cacheStatus);
        if (call.cacheSimilarity !== undefined)
          reply.header(`${cacheHeader}-similarity`, call.cacheSimilarity.toFixed(4));
        // The client going away before the end cancels the upstream call.
        reply.raw.on("close", () => {
          if (!reply.raw.writableFinished) call.pending.cancel();
        });
        if (!call.parsed.stream) {
          const answer = await wholeAnswer(api, call, await collect(call.pending), request.log);
          reply.header(serverTiming, timing(reply));
          return answer;
        }

        const events = call.pending[Symbol.asyncIterator]();
        let first = await events.next();
        while (!first.done && !answerBegins(first.value)) first = await events.next();
        if (first.done) throw callerWentAway();
        if (first.value.kind === "failed") {
          await events.return?.(); // ends the request's recording
          throw failureToError(first.value);
        }
        reply.hijack();
        reply.raw.writeHead(200, {
          ...sseHeaders,
          ...call.headers,
          [serverTiming]: timing(reply),
          ...(call.cacheStatus && { [cacheHeader]: call.cacheStatus }),
          ...(call.cacheSimilarity !== undefined && {
            [`${cacheHeader}-similarity`]: call.cacheSimilarity.toFixed(4),
          }),
        });
        const framesOf = streamFrames(api, call, request.log);
        let failed = false;
        try {
          for (let next: IteratorResult<ReplyEvent> = first; !next.done; next = await events.next()) {
            request.observation.sending(next.value);
            if (next.value.kind === "failed") {
              failed = true;
              // The status went out with the first content; the metrics count the one the stream ended with.
              request.observation.end(statusOf(failureToError(next.value), api.shape));
            }
            for (const frame of await framesOf(next.value)) await writeFrame(reply.raw, frame);
          }
          if (api.streamEnd && !failed) await writeFrame(reply.raw, api.streamEnd);
        } finally {
          reply.raw.end();
          await events.return?.();
        }
      });
    });
  }
};

const serverTiming = "server-timing";

/**
 * `Server-Timing: answer;dur=<ms>`: from the request's arrival to its whole answer, or to a
 * stream's first content, being ready to send — for a cache hit, all the time the gateway took.
 */
function timing(reply: FastifyReply): string {
  return `answer;dur=${reply.elapsedTime.toFixed(3)}`;
}

/** The first event the client must see: content, or the end. Until then a failure is a plain HTTP error. */
function answerBegins(event: ReplyEvent): boolean {
  return event.kind !== "started" && event.kind !== "heartbeat";
}
