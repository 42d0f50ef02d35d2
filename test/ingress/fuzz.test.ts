import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { RunningGateway } from "../../app/gateway.ts";
import { type AnthropicEmulator, startAnthropicEmulator } from "../emulators/anthropic.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";
import { almostValid, toJson, wireBody } from "./fuzz-inputs.ts";

/**
 * Property: whatever a client sends an inbound API — random bytes, any JSON, a valid request with
 * one field broken — it gets a 4xx in that API's error shape or a valid answer; never a 5xx, never
 * a crash; and what the gateway refuses never reaches the provider. The same over the WebSocket.
 *
 * Runs FUZZ_RUNS cases per API (default 300, about a second each here) from FUZZ_SEED (fixed by
 * default, so CI is repeatable; another seed explores further). A failure prints its seed and its
 * shrunk counterexample.
 */
const runs = Number(process.env.FUZZ_RUNS ?? 300);
const seed = Number(process.env.FUZZ_SEED ?? 15_2026);

const apis = [
  {
    name: "openai_chat",
    path: "/v1/chat/completions",
    shape: "openai",
    answer: { object: "chat.completion" },
  },
  { name: "anthropic_messages", path: "/v1/messages", shape: "anthropic", answer: { type: "message" } },
  { name: "openai_responses", path: "/v1/responses", shape: "openai", answer: { object: "response" } },
  { name: "openai_embeddings", path: "/v1/embeddings", shape: "openai", answer: { object: "list" } },
] as const;
type Api = (typeof apis)[number];

/** What an error body must be in each shape. */
function expectErrorShape(body: unknown, shape: Api["shape"]) {
  if (shape === "anthropic")
    expect(body).toEqual({ type: "error", error: { type: expect.any(String), message: expect.any(String) } });
  else {
    const error = (body as { error: Record<string, unknown> }).error;
    expect(Object.keys(error).sort()).toEqual(["code", "message", "param", "type"]);
    expect([typeof error.message, typeof error.type]).toEqual(["string", "string"]);
    for (const field of [error.param, error.code])
      expect(field === null || typeof field === "string").toBe(true);
  }
}

/** A streamed answer: every frame JSON (or OpenAI's [DONE]), and no in-stream server error. */
function expectValidStream(text: string) {
  const frames = text
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => line.slice("data: ".length));
  expect(frames.length).toBeGreaterThan(0);
  for (const frame of frames) {
    if (frame === "[DONE]") continue;
    const data = JSON.parse(frame) as { type?: string; error?: { type?: string } };
    expect(["server_error", "api_error"]).not.toContain(data.error?.type);
  }
}

describe("fuzzing the inbound APIs", () => {
  let openai: OpenAIEmulator;
  let anthropic: AnthropicEmulator;
  let gateway: RunningGateway;

  beforeAll(async () => {
    openai = await startOpenAIEmulator({ apiKey: "key" });
    anthropic = await startAnthropicEmulator({ apiKey: "key" });
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: [
          { name: "o", type: "openai", options: { baseUrl: openai.url, apiKey: "key" } },
          { name: "a", type: "anthropic", options: { baseUrl: anthropic.url, apiKey: "key" } },
        ],
        models: [
          { name: "m", provider: "o", model: "gpt" },
          { name: "c", provider: "a", model: "claude" },
        ],
      }),
    );
  });
  afterAll(async () => {
    await gateway?.close();
    await openai?.close();
    await anthropic?.close();
  });

  /**
   * Runs one case and checks what reached the provider: nothing when the gateway refused, unless
   * the provider itself refused it (a 4xx of its own, passed on as such).
   */
  async function reachingProvider<T>(send: () => Promise<T>, refused: (outcome: T) => boolean): Promise<T> {
    const before = [openai.requests.length, anthropic.requests.length];
    const outcome = await send();
    const reached = [...openai.requests.slice(before[0]), ...anthropic.requests.slice(before[1])];
    if (refused(outcome))
      expect(reached.filter((request) => request.status === undefined || request.status < 400)).toEqual([]);
    return outcome;
  }

  it.each(apis)("answers anything sent to $path with a 4xx in its shape or a valid answer", async (api) => {
    await fc.assert(
      fc.asyncProperty(wireBody(api.name), async ({ contentType, bytes, headers }) => {
        const { status, type, text } = await reachingProvider(
          async () => {
            const response = await fetch(`${gateway.url}${api.path}`, {
              method: "POST",
              headers: {
                ...headers,
                authorization: `Bearer ${testKey}`,
                ...(contentType && { "content-type": contentType }),
              },
              body: bytes,
            });
            return {
              status: response.status,
              type: response.headers.get("content-type"),
              text: await response.text(),
            };
          },
          (outcome) => outcome.status >= 400,
        );
        expect(status, text).toBeLessThan(500);
        if (status >= 400) return expectErrorShape(JSON.parse(text), api.shape);
        expect(status).toBe(200);
        if (type?.startsWith("text/event-stream")) return expectValidStream(text);
        expect(JSON.parse(text)).toMatchObject(api.answer);
      }),
      { numRuns: runs, seed },
    );
  });

  it("answers anything sent on the WebSocket with an error in the request's shape or a valid answer", async () => {
    const socket = new WebSocket(`${gateway.url.replace("http", "ws")}/v1/ws`, {
      headers: { authorization: `Bearer ${testKey}` },
    });
    const received: Array<{ type: string; id: unknown; status?: number; error?: unknown }> = [];
    socket.on("message", (data) => received.push(JSON.parse(data.toString())));
    await new Promise((resolve) => socket.once("open", resolve));
    let next = 0;

    /** The first message from `from` on that ends the case: an error, or a request's done. */
    const ending = async (from: number, id: unknown) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const found = received
          .slice(from)
          .find((message) => message.id === id && (message.type === "error" || message.type === "done"));
        if (found) return found;
        if (Date.now() > deadline)
          throw new Error(`no answer for ${String(id)}: ${JSON.stringify(received.slice(from))}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };

    const request = fc.constantFrom(...apis).chain((api) =>
      fc.record({
        api: fc.constant(api),
        body: almostValid(api.name),
        named: fc.oneof(
          { weight: 9, arbitrary: fc.constant(api.name) },
          { weight: 1, arbitrary: fc.string() },
        ),
        priority: fc.option(fc.oneof(fc.constantFrom("interactive", "batch"), fc.jsonValue()), {
          nil: undefined,
        }),
      }),
    );
    // Anything that is not a request or a cancel: each gets one error, under its id if it has a string one.
    const junk = fc
      .oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.string({ unit: "binary", maxLength: 200 }),
        fc.jsonValue({ stringUnit: "binary" }).map(toJson),
        fc
          .record({
            type: fc.constant("request"),
            id: fc.oneof(fc.constant(""), fc.integer(), fc.constant(null)),
          })
          .map(toJson),
      )
      .filter((frame) => {
        try {
          const type = (JSON.parse(Buffer.from(frame).toString()) as { type?: unknown } | null)?.type;
          return type !== "cancel";
        } catch {
          return true;
        }
      });

    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 3, arbitrary: request }, { weight: 1, arbitrary: junk }),
        async (sent) => {
          const from = received.length;
          if (typeof sent === "string" || sent instanceof Uint8Array) {
            let id: unknown = null;
            try {
              const parsed = JSON.parse(Buffer.from(sent).toString()) as { id?: unknown } | null;
              if (typeof parsed?.id === "string") id = parsed.id;
            } catch {}
            socket.send(sent);
            const answer = await ending(from, id);
            expect(answer).toMatchObject({ type: "error", status: 400 });
            return expectErrorShape(answer.error, "openai");
          }
          const id = `case-${next++}`;
          const message = { type: "request", id, api: sent.named, body: sent.body, priority: sent.priority };
          const answer = await reachingProvider(
            async () => {
              socket.send(toJson(message));
              return ending(from, id);
            },
            (outcome) => outcome.type === "error",
          );
          if (answer.type === "done") return;
          expect(answer.status, JSON.stringify(answer)).toBeLessThan(500);
          expect(answer.status).toBeGreaterThanOrEqual(400);
          expectErrorShape(answer.error, sent.named === sent.api.name ? sent.api.shape : "openai");
        },
      ),
      { numRuns: runs, seed },
    );
    expect(socket.readyState).toBe(WebSocket.OPEN);
    socket.close();
  });

  it("still answers a plain request afterwards", async () => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${testKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "still here?" }] }),
    });
    expect(response.status).toBe(200);
  });
});
