import { crc32 } from "node:zlib";
import type { EventStreamCodec } from "@smithy/core/event-streams";
import { GatewayError } from "../../../schemas/errors.ts";
import { UnexpectedProviderData } from "../http/provider-data.ts";
import { bedrockExceptionError } from "./errors.ts";

/** One event of a Bedrock stream: its `:event-type` and its JSON payload, as text. */
export interface BedrockEvent {
  type: string;
  payload: string;
}

const preludeBytes = 12;
/** AWS event-stream messages are at most 16 MiB; a larger length is a corrupt prelude, not a reason to allocate. */
const maxMessageBytes = 16 * 1024 * 1024;
/**
 * smithy's codec, loaded with the first stream: a process that only reads the configuration
 * (`ai-gateway config`, the ingress) never loads the AWS SDK's modules.
 */
let codecLoaded: Promise<EventStreamCodec> | undefined;
const loadCodec = () =>
  (codecLoaded ??= Promise.all([import("@smithy/core/event-streams"), import("@smithy/core/serde")]).then(
    ([streams, serde]) => new streams.EventStreamCodec(serde.toUtf8, serde.fromUtf8),
  ));
const corrupt = (problem: string) =>
  new UnexpectedProviderData("bedrock", "an event stream message", problem);

/**
 * The messages of an `application/vnd.amazon.eventstream` body (prelude: total length, headers
 * length, prelude CRC32; headers; payload; message CRC32). The framing is ours, so the prelude's
 * CRC is checked before its length is trusted (the SDK's chunker allocates whatever length it
 * reads); smithy's codec then checks both CRCs again and parses the typed headers.
 */
export async function* readEventStream(
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<{ headers: Record<string, unknown>; body: Uint8Array }> {
  const codec = await loadCodec();
  let buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    buffer = buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([buffer, chunk]);
    while (buffer.length >= preludeBytes) {
      if (crc32(buffer.subarray(0, 8)) !== buffer.readUInt32BE(8))
        throw corrupt("its prelude CRC32 does not match");
      const total = buffer.readUInt32BE(0);
      if (total > maxMessageBytes || total < preludeBytes + 4)
        throw corrupt(`its length ${total} is impossible`);
      if (buffer.length < total) break;
      let message: ReturnType<typeof codec.decode>;
      try {
        message = codec.decode(buffer.subarray(0, total));
      } catch (error) {
        throw corrupt(
          /checksum/i.test((error as Error).message)
            ? "its message CRC32 does not match"
            : "its headers cannot be read",
        );
      }
      buffer = buffer.subarray(total);
      const headers = Object.fromEntries(
        Object.entries(message.headers).map(([name, header]) => [name, header.value]),
      );
      yield { headers, body: message.body };
    }
  }
  if (buffer.length > 0) throw corrupt("the stream ended inside a message");
}

/**
 * A Bedrock stream's events. An exception message (`:message-type: exception`, the error's name in
 * `:exception-type`, `{message}` as payload) or an error message (`:error-code`) is thrown as the
 * gateway error its name maps to.
 */
export async function* bedrockEvents(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<BedrockEvent> {
  const decoder = new TextDecoder();
  for await (const { headers, body } of readEventStream(chunks)) {
    const payload = decoder.decode(body);
    const kind = headers[":message-type"];
    if (kind === "event") {
      yield { type: String(headers[":event-type"] ?? ""), payload };
      continue;
    }
    if (kind === "exception")
      throw bedrockExceptionError(String(headers[":exception-type"]), messageOf(payload));
    if (kind === "error")
      throw bedrockExceptionError(String(headers[":error-code"]), String(headers[":error-message"] ?? ""));
    throw new GatewayError(
      "provider_error",
      `bedrock sent an event stream message of unknown type ${String(kind)}`,
    );
  }
}

function messageOf(payload: string): string {
  try {
    const body = JSON.parse(payload) as { message?: unknown; Message?: unknown };
    return String(body.message ?? body.Message ?? "");
  } catch {
    return "";
  }
}
