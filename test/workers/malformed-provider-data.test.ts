import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import type { Malformation } from "../emulators/directives.ts";
import type { Emulator } from "../emulators/json-server.ts";
import { emulatedProviderTypes, startEmulatedProvider } from "../emulators/providers.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

type Broken = Exclude<Malformation, "unknown">;
type Mode = "whole" | "stream";

/**
 * What each adapter says when its provider sends what it cannot read: the kind of data, and the
 * problem for each malformation the emulators make ([emulator:malformed], test/emulators/).
 */
const openAIStyle = {
  whole: {
    what: "a chat completion",
    "not-json": "it is not JSON",
    missing: "choices is missing",
    "wrong-type": "expected string or null at choices.0.message.content",
  },
  stream: {
    what: "a stream chunk",
    "not-json": "it is not JSON",
    missing: "choices.0.index is missing",
    "wrong-type": "expected string or null at choices.0.delta.content",
  },
};
const geminiStyle = {
  whole: {
    what: "a response",
    "not-json": "it is not JSON",
    missing: "candidates is missing",
    "wrong-type": "expected string at candidates.0.content.parts.0.text",
  },
  stream: {
    what: "a stream chunk",
    "not-json": "it is not JSON",
    missing: "candidates.0.content.parts.0.functionCall.name is missing",
    "wrong-type": "expected string at candidates.0.content.parts.0.text",
  },
};
const expected: Record<string, Record<Mode, Record<Broken | "what", string>>> = {
  openai: openAIStyle,
  "azure-openai": openAIStyle,
  "openai-compatible": openAIStyle,
  anthropic: {
    whole: {
      what: "a message",
      "not-json": "it is not JSON",
      missing: "content is missing",
      "wrong-type": "expected string at content.0.text",
    },
    stream: {
      what: "a stream event",
      "not-json": "it is not JSON",
      missing: "delta is missing",
      "wrong-type": "expected string at delta.text",
    },
  },
  gemini: geminiStyle,
  bedrock: {
    whole: {
      what: "a response",
      "not-json": "it is not JSON",
      missing: "output is missing",
      "wrong-type": "expected string at output.message.content.0.text",
    },
    stream: {
      what: "a contentBlockDelta event",
      "not-json": "it is not JSON",
      missing: "delta is missing",
      "wrong-type": "expected string at delta.text",
    },
  },
  // Vertex AI answers "model-x", as every Google model, in Gemini's format.
  vertex: geminiStyle,
};
const broken: Broken[] = ["not-json", "missing", "wrong-type"];
const modes: Mode[] = ["whole", "stream"];
/** Words of the prompt that must never show up in an error: the provider's data may echo them. */
const prompt = "tell me about violet lanterns";

/** The error message for a provider, mode and malformation, as a pattern. */
function problem(provider: string, mode: Mode, kind: Broken): RegExp {
  const table = expected[provider];
  if (!table) throw new Error(`no expected errors for provider type ${provider} in this test`);
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(
    `${literal(provider)} sent ${literal(table[mode].what)} that the gateway cannot read: ${literal(table[mode][kind])}$`,
  );
}

type Answer = { text: string; error?: { status?: number; message: string; type?: string } };

/**
 * Provider data that is not what its API documents, against every provider type of the registry
 * that calls a service (each through its emulator, over HTTP), to callers of both inbound APIs:
 * the typed provider error in the caller's shape, a failover while nothing reached the client,
 * the API's in-stream error after content, and what a protocol lets a reader ignore, ignored.
 */
describe("provider data the adapters cannot read", () => {
  const emulators: Emulator[] = [];
  const brokenEmulators = new Map<string, Emulator>();
  let gateway: RunningGateway;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    const healthy = await Promise.all(emulatedProviderTypes.map((type) => startEmulatedProvider(type)));
    const failing = await Promise.all(emulatedProviderTypes.map((type) => startEmulatedProvider(type)));
    emulators.push(...[...healthy, ...failing].map(({ emulator }) => emulator));
    emulatedProviderTypes.forEach((type, index) => {
      brokenEmulators.set(type, failing[index]?.emulator as Emulator);
    });
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: emulatedProviderTypes.flatMap((type, index) => [
          { name: type, type, options: healthy[index]?.options },
          { name: `broken-${type}`, type, options: failing[index]?.options },
        ]),
        models: emulatedProviderTypes.flatMap((type) => [
          { name: `via-${type}`, provider: type, model: "model-x" },
          {
            name: `failover-${type}`,
            strategy: "priority",
            deployments: [
              { provider: `broken-${type}`, model: "model-x" },
              { provider: type, model: "model-x" },
            ],
          },
        ]),
        // A failover needs a second call; no pause before it.
        routing: { maxAttempts: 2, backoffMs: 0, maxBackoffMs: 0, retryBudget: 1, minRetriesPerSecond: 1000 },
      }),
    );
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gateway.url, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all(emulators.map((emulator) => emulator.close()));
  });

  const fromOpenAI = async (model: string, content: string, mode: Mode): Promise<Answer> => {
    let text = "";
    try {
      if (mode === "whole") {
        const completion = await openai.chat.completions.create({
          model,
          messages: [{ role: "user", content }],
        });
        return { text: completion.choices[0]?.message.content ?? "" };
      }
      const stream = await openai.chat.completions.create({
        model,
        stream: true,
        messages: [{ role: "user", content }],
      });
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      return { text };
    } catch (error) {
      if (!(error instanceof OpenAI.APIError)) throw error;
      return { text, error: { status: error.status, message: error.message, type: error.type } };
    }
  };

  const fromAnthropic = async (model: string, content: string, mode: Mode): Promise<Answer> => {
    let text = "";
    try {
      if (mode === "whole") {
        const message = await anthropic.messages.create({
          model,
          max_tokens: 100,
          messages: [{ role: "user", content }],
        });
        return { text: message.content.map((block) => (block.type === "text" ? block.text : "")).join("") };
      }
      const stream = anthropic.messages.stream({
        model,
        max_tokens: 100,
        messages: [{ role: "user", content }],
      });
      stream.on("text", (delta) => {
        text += delta;
      });
      await stream.finalMessage();
      return { text };
    } catch (error) {
      if (!(error instanceof Anthropic.APIError)) throw error;
      const body = error.error as { error?: { type?: string; message?: string } } | undefined;
      const message = body?.error?.message ?? error.message;
      return { text, error: { status: error.status, message, type: body?.error?.type } };
    }
  };

  /** Each inbound API, and the type its error bodies give a provider error. */
  const callers = [
    { ask: fromOpenAI, errorType: "server_error" },
    { ask: fromAnthropic, errorType: "api_error" },
  ];
  const cases = emulatedProviderTypes.flatMap((provider) =>
    modes.flatMap((mode) => broken.map((kind) => [provider, mode, kind] as const)),
  );

  it.each(cases)(
    "%s, %s: %s → a provider error (502) naming what and where, in each caller's shape",
    async (provider, mode, kind) => {
      for (const { ask, errorType } of callers) {
        const answer = await ask(`via-${provider}`, `${prompt} [emulator:malformed=${kind}]`, mode);
        expect(answer.text).toBe("");
        expect(answer.error).toMatchObject({ status: 502, type: errorType });
        expect(answer.error?.message).toMatch(problem(provider, mode, kind));
        expect(answer.error?.message).not.toMatch(/violet|lantern/);
      }
    },
  );

  it.each(cases)(
    "%s, %s: %s before any content → served by the next deployment",
    async (provider, mode, kind) => {
      const failing = brokenEmulators.get(provider) as Emulator;
      failing.inject(`[emulator:malformed=${kind}]`);
      try {
        const before = failing.requests.length;
        for (const { ask } of callers) {
          const answer = await ask(`failover-${provider}`, "hello there", mode);
          expect(answer).toEqual({ text: "Echo: hello there" });
        }
        expect(failing.requests.length - before).toBe(2);
      } finally {
        failing.inject("");
      }
    },
  );

  it.each(emulatedProviderTypes.flatMap((provider) => broken.map((kind) => [provider, kind] as const)))(
    "%s: %s after content → the stream ends with the API's error event",
    async (provider, kind) => {
      const content = `a b c d [emulator:malformed=${kind}] [emulator:malformed-after=2]`;
      for (const { ask, errorType } of callers) {
        const answer = await ask(`via-${provider}`, content, "stream");
        expect(answer.text).toBe("Echo: a");
        expect(answer.error?.type).toBe(errorType);
        expect(answer.error?.message).toMatch(problem(provider, "stream", kind));
      }
    },
  );

  it.each(emulatedProviderTypes.flatMap((provider) => modes.map((mode) => [provider, mode] as const)))(
    "%s, %s: fields, events, blocks or parts the protocol lets a reader ignore are ignored",
    async (provider, mode) => {
      for (const { ask } of callers) {
        const answer = await ask(`via-${provider}`, "one two three [emulator:malformed=unknown]", mode);
        expect(answer).toEqual({ text: "Echo: one two three" });
      }
    },
  );
});
