import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { parseServerSentEvents } from "../../workers/providers/http/sse.ts";
import type { Emulator } from "../emulators/json-server.ts";
import { emulatedProviderTypes, startEmulatedProvider } from "../emulators/providers.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

/**
 * The golden-stream suite: for every inbound API shape × every provider, the stream a client
 * receives for each scenario, reduced to its structure (event kinds, tool calls with their whole
 * arguments, stop reasons; text and argument pieces joined), must equal one golden per shape and
 * scenario. A client must not be able to tell which provider answered. The providers are every
 * type in the registry that calls a service, each against its emulator (test/emulators/providers.ts),
 * with each model its emulator lists (a type serving several wire formats has one model for each).
 */
const providers = emulatedProviderTypes;
type Shape = "openai_chat" | "anthropic_messages" | "openai_responses";
type Scenario = "text" | "tool" | "parallel" | "length" | "refusal" | "error" | "cut" | "slow";

const lookup = {
  name: "lookup",
  description: "Look something up",
  schema: { type: "object", properties: { n: { type: "number" } } },
};
const prompts: Record<Scenario, string> = {
  text: "hello world",
  tool: "look it up",
  parallel: "look both up [emulator:calls=2]",
  length: "one two three [emulator:length]",
  refusal: "bad [emulator:refusal]",
  error: "a b c d [emulator:midstream]",
  // The connection drops after two words, without an error event from the provider.
  cut: "a b c d [emulator:disconnect=2]",
  // A late first byte and a slow token rate change nothing in what the client sees.
  slow: "hello world [emulator:latency=30] [emulator:delay=5]",
};
const usesTools = (scenario: Scenario) => scenario === "tool" || scenario === "parallel";

function requestFor(
  shape: Shape,
  model: string,
  scenario: Scenario,
): { path: string; body: Record<string, unknown> } {
  const content = prompts[scenario];
  if (shape === "openai_chat") {
    return {
      path: "/v1/chat/completions",
      body: {
        model,
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: "user", content }],
        ...(usesTools(scenario) && {
          tools: [
            {
              type: "function",
              function: { name: lookup.name, description: lookup.description, parameters: lookup.schema },
            },
          ],
        }),
        ...(scenario === "tool" && { tool_choice: "required" }),
      },
    };
  }
  if (shape === "anthropic_messages") {
    return {
      path: "/v1/messages",
      body: {
        model,
        max_tokens: 100,
        stream: true,
        messages: [{ role: "user", content }],
        ...(usesTools(scenario) && {
          tools: [{ name: lookup.name, description: lookup.description, input_schema: lookup.schema }],
        }),
        ...(scenario === "tool" && { tool_choice: { type: "any" } }),
      },
    };
  }
  return {
    path: "/v1/responses",
    body: {
      model,
      stream: true,
      input: content,
      ...(usesTools(scenario) && {
        tools: [
          { type: "function", name: lookup.name, description: lookup.description, parameters: lookup.schema },
        ],
      }),
      ...(scenario === "tool" && { tool_choice: "required" }),
    },
  };
}

/** Appends a piece to the last token if it has the same prefix, else starts a new token. */
function join(tokens: string[], prefix: string, piece: string): void {
  const last = tokens.at(-1);
  if (last?.startsWith(prefix)) tokens[tokens.length - 1] = last + piece;
  else tokens.push(prefix + piece);
}

type Event = { event: string; data: string };

/** Tool arguments compared as JSON values: providers differ in spacing, clients parse them. */
function canonicalArguments(tokens: string[]): string[] {
  return tokens.map((token) => {
    const match = /^((?:args:\d+:)|(?:args:)|(?:json:))(.*)$/s.exec(token);
    return match ? `${match[1]}${JSON.stringify(JSON.parse(match[2] as string))}` : token;
  });
}

const normalizers: Record<Shape, (events: Event[]) => string[]> = {
  openai_chat(events) {
    const tokens: string[] = [];
    for (const { data } of events) {
      if (data === "[DONE]") {
        tokens.push("done");
        continue;
      }
      const chunk = JSON.parse(data);
      if (chunk.error) {
        tokens.push("error");
        continue;
      }
      if (chunk.usage) tokens.push("usage");
      for (const choice of chunk.choices ?? []) {
        if (choice.delta?.role) tokens.push("role");
        if (choice.delta?.content) join(tokens, "text:", choice.delta.content);
        for (const call of choice.delta?.tool_calls ?? []) {
          if (call.id) tokens.push(`call:${call.index}:${call.function?.name}`);
          if (call.function?.arguments) join(tokens, `args:${call.index}:`, call.function.arguments);
        }
        if (choice.finish_reason) tokens.push(`finish:${choice.finish_reason}`);
      }
    }
    return tokens;
  },
  anthropic_messages(events) {
    const tokens: string[] = [];
    for (const { event, data } of events) {
      const body = JSON.parse(data);
      if (event === "ping") continue;
      if (event === "content_block_start")
        tokens.push(
          body.content_block.type === "tool_use"
            ? `block:tool_use:${body.content_block.name}`
            : `block:${body.content_block.type}`,
        );
      else if (event === "content_block_delta") {
        if (body.delta.type === "text_delta") join(tokens, "text:", body.delta.text);
        else join(tokens, "json:", body.delta.partial_json);
      } else if (event === "message_delta") tokens.push(`message_delta:${body.delta.stop_reason}`);
      else tokens.push(event);
    }
    return tokens;
  },
  openai_responses(events) {
    const tokens: string[] = [];
    for (const { event, data } of events) {
      const body = JSON.parse(data);
      switch (event) {
        case "response.output_item.added":
          tokens.push(
            body.item.type === "function_call"
              ? `item:function_call:${body.item.name}`
              : `item:${body.item.type}`,
          );
          break;
        case "response.output_text.delta":
          join(tokens, "text:", body.delta);
          break;
        case "response.function_call_arguments.delta":
          join(tokens, "args:", body.delta);
          break;
        case "response.incomplete":
          tokens.push(`incomplete:${body.response.incomplete_details.reason}`);
          break;
        default:
          tokens.push(event.replace(/^response\./, ""));
      }
    }
    return tokens;
  },
};

const baseGoldens: Record<Shape, Record<Exclude<Scenario, "cut" | "slow">, string[]>> = {
  openai_chat: {
    text: ["role", "text:Echo: hello world", "finish:stop", "usage", "done"],
    tool: ["role", "call:0:lookup", 'args:0:{"n":0}', "finish:tool_calls", "usage", "done"],
    parallel: [
      "role",
      "call:0:lookup",
      'args:0:{"n":0}',
      "call:1:lookup",
      'args:1:{"n":1}',
      "finish:tool_calls",
      "usage",
      "done",
    ],
    length: ["role", "text:Echo: one", "finish:length", "usage", "done"],
    refusal: ["role", "text:Echo: bad", "finish:content_filter", "usage", "done"],
    error: ["role", "text:Echo: a", "error"],
  },
  anthropic_messages: {
    text: [
      "message_start",
      "block:text",
      "text:Echo: hello world",
      "content_block_stop",
      "message_delta:end_turn",
      "message_stop",
    ],
    tool: [
      "message_start",
      "block:tool_use:lookup",
      'json:{"n":0}',
      "content_block_stop",
      "message_delta:tool_use",
      "message_stop",
    ],
    parallel: [
      "message_start",
      "block:tool_use:lookup",
      'json:{"n":0}',
      "content_block_stop",
      "block:tool_use:lookup",
      'json:{"n":1}',
      "content_block_stop",
      "message_delta:tool_use",
      "message_stop",
    ],
    length: [
      "message_start",
      "block:text",
      "text:Echo: one",
      "content_block_stop",
      "message_delta:max_tokens",
      "message_stop",
    ],
    refusal: [
      "message_start",
      "block:text",
      "text:Echo: bad",
      "content_block_stop",
      "message_delta:refusal",
      "message_stop",
    ],
    error: ["message_start", "block:text", "text:Echo: a", "error"],
  },
  openai_responses: {
    text: [
      "created",
      "in_progress",
      "item:message",
      "content_part.added",
      "text:Echo: hello world",
      "output_text.done",
      "content_part.done",
      "output_item.done",
      "completed",
    ],
    tool: [
      "created",
      "in_progress",
      "item:function_call:lookup",
      'args:{"n":0}',
      "function_call_arguments.done",
      "output_item.done",
      "completed",
    ],
    parallel: [
      "created",
      "in_progress",
      "item:function_call:lookup",
      'args:{"n":0}',
      "function_call_arguments.done",
      "output_item.done",
      "item:function_call:lookup",
      'args:{"n":1}',
      "function_call_arguments.done",
      "output_item.done",
      "completed",
    ],
    length: [
      "created",
      "in_progress",
      "item:message",
      "content_part.added",
      "text:Echo: one",
      "output_text.done",
      "content_part.done",
      "output_item.done",
      "incomplete:max_output_tokens",
    ],
    refusal: [
      "created",
      "in_progress",
      "item:message",
      "content_part.added",
      "text:Echo: bad",
      "output_text.done",
      "content_part.done",
      "output_item.done",
      "incomplete:content_filter",
    ],
    error: ["created", "in_progress", "item:message", "content_part.added", "text:Echo: a", "error"],
  },
};

const goldens = Object.fromEntries(
  Object.entries(baseGoldens).map(([shape, golden]) => [
    shape,
    { ...golden, cut: golden.error, slow: golden.text },
  ]),
) as Record<Shape, Record<Scenario, string[]>>;

describe("golden streams: every inbound shape × every provider", () => {
  const emulators: Emulator[] = [];
  /** The models each provider is run with: "model-x", or those its emulator lists (test/emulators/providers.ts). */
  const modelsOf = new Map<string, string[]>();
  let gateway: RunningGateway;

  beforeAll(async () => {
    const started = await Promise.all(providers.map((type) => startEmulatedProvider(type)));
    emulators.push(...started.map(({ emulator }) => emulator));
    providers.forEach((type, index) => {
      modelsOf.set(type, started[index]?.models ?? ["model-x"]);
    });
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: providers.map((type, index) => ({ name: type, type, options: started[index]?.options })),
        models: providers.flatMap((provider) =>
          (modelsOf.get(provider) ?? []).map((model) => ({
            name: `via-${provider}-${model}`,
            provider,
            model,
          })),
        ),
      }),
    );
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all(emulators.map((emulator) => emulator.close()));
  });

  const shapes = Object.keys(goldens) as Shape[];
  const scenarios = Object.keys(prompts) as Scenario[];
  const cases = shapes.flatMap((shape) =>
    providers.flatMap((provider) => scenarios.map((scenario) => [shape, provider, scenario] as const)),
  );

  it.each(cases)("%s from %s: %s", async (shape, provider, scenario) => {
    for (const model of modelsOf.get(provider) ?? []) {
      const { path, body } = requestFor(shape, `via-${provider}-${model}`, scenario);
      const response = await fetch(`${gateway.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${testKey}` },
        body: JSON.stringify(body),
      });
      expect(response.status, model).toBe(200);
      expect(response.headers.get("content-type"), model).toMatch(/^text\/event-stream/);
      const events: Event[] = [];
      for await (const event of parseServerSentEvents(response.body as unknown as AsyncIterable<Uint8Array>))
        events.push(event);
      expect(canonicalArguments(normalizers[shape](events)), model).toEqual(goldens[shape][scenario]);
    }
  });
});
