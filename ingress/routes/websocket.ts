import type { WebSocket } from "@fastify/websocket";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { InboundApi } from "../../calls/apis/api.ts";
import { collect, failureToError } from "../../calls/apis/completion.ts";
import { depthError } from "../../calls/apis/depth.ts";
import { type CallServices, startCall } from "../../calls/call.ts";
import { streamFrames, wholeAnswer } from "../../calls/deliver.ts";
import type { PendingRequest } from "../../calls/dispatcher.ts";
import { errorBody, errorToAnswer, statusOf } from "../../calls/errors.ts";
import { clientClosedStatus, RequestObservation } from "../../calls/metrics.ts";
import { readSteering } from "../../calls/steering.ts";
import type { Caller } from "../../governance/keys/keyring.ts";
import { GatewayError } from "../../schemas/errors.ts";
import { snakeCaseUsage, type Usage } from "../../schemas/reply-event.ts";

export interface WebSocketOptions {
  apis: ReadonlyArray<InboundApi<unknown>>;
  services: CallServices;
  /** server.bodyDepthLimit: a request's body is held to it as an HTTP body is. */
  bodyDepthLimit: number;
}

type ClientMessage =
  | { type: "request"; id: string; api: string; body: unknown; priority?: string }
  | { type: "cancel"; id: string };

/**
 * GET /v1/ws: one socket, many concurrent requests, each tagged with the client's id. The protocol
 * is documented in docs/websocket.md. Closing the socket cancels everything still running on it.
 */
export const webSocketRoutes: FastifyPluginAsync<WebSocketOptions> = async (app, options) => {
  const apisByName = new Map(options.apis.map((api) => [api.name, api]));

  app.get("/v1/ws", { websocket: true }, (socket: WebSocket, request) => {
    try {
      app.authenticate(request);
    } catch (error) {
      send(socket, { type: "error", id: null, ...errorFields(errorToAnswer(error, request.log), "openai") });
      socket.close(1008, "authentication failed");
      return;
    }
    const running = new Map<string, PendingRequest>();

    socket.on("message", (raw) => {
      let message: ClientMessage;
      const text = raw.toString();
      try {
        message = JSON.parse(text) as ClientMessage;
      } catch {
        send(socket, {
          type: "error",
          id: null,
          ...errorFields(new GatewayError("invalid_request", "a message must be JSON"), "openai"),
        });
        return;
      }
      if (message?.type === "cancel") {
        running.get(message.id)?.cancel();
        return;
      }
      if (message?.type !== "request" || typeof message.id !== "string" || message.id === "") {
        const problem = new GatewayError(
          "invalid_request",
          'a message needs "type": "request" or "cancel" and a non-empty string "id"',
        );
        send(socket, {
          type: "error",
          id: typeof message?.id === "string" ? message.id : null,
          ...errorFields(problem, "openai"),
        });
        return;
      }
      const api = apisByName.get(message.api);
      if (!api) {
        const problem = new GatewayError(
          "invalid_request",
          `"api" must be one of ${[...apisByName.keys()].join(", ")}`,
        );
        send(socket, { type: "error", id: message.id, ...errorFields(problem, "openai") });
        return;
      }
      if (running.has(message.id)) {
        const problem = new GatewayError(
          "invalid_request",
          `a request with id ${message.id} is already running on this socket`,
        );
        send(socket, { type: "error", id: message.id, ...errorFields(problem, api.shape) });
        return;
      }
      // The same limit as an HTTP body's, checked as HTTP checks it: before anything else reads the body.
      const tooDeep = depthError(message.body, options.bodyDepthLimit);
      if (tooDeep) {
        send(socket, { type: "error", id: message.id, ...errorFields(tooDeep, api.shape) });
        return;
      }
      void serve(
        socket,
        api,
        message,
        request.caller,
        running,
        options.services,
        request,
        Buffer.byteLength(text),
      );
    });

    socket.on("close", () => {
      for (const pending of running.values()) pending.cancel();
      running.clear();
    });
  });
};

/**
 * An error on a socket. The WebSocket library's own (code WS_ERR_…: a message over the limit, a
 * malformed frame) are the client's doing, and it has already closed the socket with the status
 * that says so: worth an info line, not an error with a stack.
 */
export function onSocketError(error: Error, socket: WebSocket, request: FastifyRequest): void {
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && code.startsWith("WS_ERR_"))
    request.log.info({ code, reason: error.message }, "websocket closed on a client's protocol error");
  else request.log.error({ err: error }, "websocket failed");
  socket.terminate();
}

async function serve(
  socket: WebSocket,
  api: InboundApi<unknown>,
  message: Extract<ClientMessage, { type: "request" }>,
  caller: Caller,
  running: Map<string, PendingRequest>,
  services: CallServices,
  /** The upgrade request: its headers steer the call, its logger takes what goes wrong. */
  upgrade: FastifyRequest,
  requestBytes: number,
): Promise<void> {
  const headers = upgrade.headers;
  const id = message.id;
  let cancelled = false;
  let sent = 0;
  const reply = (answer: Record<string, unknown>) => {
    sent += send(socket, answer);
  };
  const observation = new RequestObservation(services.metrics, api.name);
  /** The HTTP status of what the client was told, for the metrics. */
  let status = 200;
  try {
    const call = await startCall(
      api,
      message.body,
      caller,
      readSteering(headers, message.priority),
      services,
      observation,
      { forceStream: true, requestBytes, responseBytes: () => sent, traceHeaders: headers },
    );
    running.set(id, {
      id: call.pending.id,
      cancel: () => {
        cancelled = true;
        call.pending.cancel();
      },
      [Symbol.asyncIterator]: () => call.pending[Symbol.asyncIterator](),
    });
    if (!call.parsed.stream) {
      const completion = await collect(call.pending);
      reply({ type: "response", id, data: await wholeAnswer(api, call, completion, upgrade.log) });
      reply({
        type: "done",
        id,
        usage: snakeCaseUsage(completion.usage),
        ...cacheField(call.cacheStatus),
      });
      return;
    }
    const framesOf = streamFrames(api, call, upgrade.log);
    let usage: Usage | undefined;
    for await (const event of call.pending) {
      if (event.kind === "failed") {
        await framesOf(event); // keeps what the caller was sent, failed, for an API that keeps answers
        const fields = errorFields(failureToError(event), api.shape);
        status = fields.status;
        reply({ type: "error", id, ...fields });
        return;
      }
      observation.sending(event);
      if (event.kind === "usage") usage = event.usage ?? undefined;
      for (const frame of await framesOf(event)) {
        if ("keepAlive" in frame) continue; // the socket has its own pings
        reply({ type: "chunk", id, ...(frame.event && { event: frame.event }), data: frame.data });
      }
    }
    reply(
      cancelled
        ? { type: "cancelled", id }
        : { type: "done", id, usage: usage ? snakeCaseUsage(usage) : null, ...cacheField(call.cacheStatus) },
    );
  } catch (error) {
    // A whole answer the caller cancelled ends in an error from collect; it is confirmed as a stream is.
    if (cancelled) return reply({ type: "cancelled", id });
    const fields = errorFields(errorToAnswer(error, upgrade.log), api.shape);
    status = fields.status;
    reply({ type: "error", id, ...fields });
  } finally {
    running.delete(id);
    observation.end(cancelled ? clientClosedStatus : status);
  }
}

/** What the answer cache did, as HTTP's x-gateway-cache header says it; absent for models not cached. */
function cacheField(status: string | undefined) {
  return status ? { cache: status } : {};
}

function errorFields(error: GatewayError, shape: InboundApi<unknown>["shape"]) {
  return { status: statusOf(error, shape), error: errorBody(error, shape) };
}

/** Sends one message if the socket is open; returns the bytes sent. */
function send(socket: WebSocket, message: Record<string, unknown>): number {
  if (socket.readyState !== socket.OPEN) return 0;
  const text = JSON.stringify(message);
  socket.send(text);
  return Buffer.byteLength(text);
}
