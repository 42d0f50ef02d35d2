import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { parseServerSentEvents } from "../../workers/providers/http/sse.ts";
import type { Emulator } from "../emulators/json-server.ts";
import {
  type EmulatedProvider,
  emulatedProviderTypes,
  startEmulatedProvider,
} from "../emulators/providers.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

/**
 * Reasoning across providers, and the coding agents that depend on it: Claude Code (Messages, with
 * extended thinking and tools) and Codex (Responses, with reasoning items) must be able to hand the
 * provider its own signed reasoning back on the next turn of a tool loop. The Anthropic emulator
 * verifies signatures and refuses a tool loop without its thinking, as Anthropic does.
 */
const lookup = {
  name: "lookup",
  description: "Look something up",
  schema: { type: "object" as const, properties: { n: { type: "number" } } },
};

/**
 * Whether each provider type shows the model's reasoning to its caller (docs/providers.md): OpenAI
 * and Azure never do. A provider type of the registry missing here fails the suite, to be decided.
 */
const showsReasoning: Record<string, boolean> = {
  openai: false,
  "azure-openai": false,
  "openai-compatible": true,
  anthropic: true,
  gemini: true,
  bedrock: true,
  vertex: true,
};

describe("reasoning through the gateway", () => {
  const started = new Map<string, EmulatedProvider>();
  const emulatorOf = (type: string) => started.get(type)?.emulator as Emulator;
  let openaiEmulator: Emulator;
  let anthropicEmulator: Emulator;
  let geminiEmulator: Emulator;
  let gateway: RunningGateway;
  let anthropic: Anthropic;
  let openai: OpenAI;

  beforeAll(async () => {
    for (const type of emulatedProviderTypes) started.set(type, await startEmulatedProvider(type));
    openaiEmulator = emulatorOf("openai");
    anthropicEmulator = emulatorOf("anthropic");
    geminiEmulator = emulatorOf("gemini");
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: emulatedProviderTypes.map((type) => ({
          name: type,
          type,
          options: started.get(type)?.options,
        })),
        models: emulatedProviderTypes.map((provider) => ({
          name: `via-${provider}`,
          provider,
          model: "model-x",
        })),
      }),
    );
    anthropic = new Anthropic({ baseURL: gateway.url, apiKey: testKey, maxRetries: 0 });
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([...started.values()].map(({ emulator }) => emulator.close()));
  });

  const lastBody = (emulator: { requests: Array<{ body: unknown }> }) =>
    emulator.requests.at(-1)?.body as Record<string, unknown>;

  it("Claude Code's loop against Anthropic: streamed thinking is signed, handed back with the tool result, and verified", async () => {
    const tools = [{ name: lookup.name, description: lookup.description, input_schema: lookup.schema }];
    const question = { role: "user" as const, content: "look it up [emulator:calls=1]" };
    const first = await anthropic.messages
      .stream({
        model: "via-anthropic",
        max_tokens: 4000,
        thinking: { type: "enabled", budget_tokens: 2000 },
        tools,
        messages: [question],
      })
      .finalMessage();
    expect(first.stop_reason).toBe("tool_use");
    expect(first.content.map((block) => block.type)).toEqual(["thinking", "tool_use"]);
    const thinking = first.content[0] as Anthropic.ThinkingBlock;
    expect(thinking.thinking).toBe("Thinking about: look it up");
    expect(thinking.signature).toMatch(/^sig_/);
    const toolUse = first.content[1] as Anthropic.ToolUseBlock;

    const nextTurn = (assistant: Anthropic.ContentBlockParam[]) =>
      anthropic.messages.create({
        model: "via-anthropic",
        max_tokens: 4000,
        thinking: { type: "enabled", budget_tokens: 2000 },
        tools,
        messages: [
          question,
          { role: "assistant", content: assistant },
          { role: "user", content: [{ type: "tool_result", tool_use_id: toolUse.id, content: "42" }] },
        ],
      });
    const second = await nextTurn(first.content as Anthropic.ContentBlockParam[]);
    expect(second.stop_reason).toBe("end_turn");
    const sent = lastBody(anthropicEmulator).messages as Array<{ content: unknown }>;
    expect(sent[1]?.content).toEqual([
      { type: "thinking", thinking: "Thinking about: look it up", signature: thinking.signature },
      { type: "tool_use", id: toolUse.id, name: "lookup", input: { n: 0 } },
    ]);

    // The emulator really checks signatures: a forged one is refused, as Anthropic refuses it.
    await expect(nextTurn([{ ...thinking, signature: "sig_forged" }, toolUse])).rejects.toMatchObject({
      status: 400,
    });
    // Without its thinking (say the turn before was served by another provider) the step goes
    // without thinking, where Anthropic would refuse the whole loop.
    await expect(nextTurn([toolUse])).resolves.toMatchObject({ stop_reason: "end_turn" });
    expect(lastBody(anthropicEmulator).thinking).toBeUndefined();
  });

  it("redacted thinking comes back to an Anthropic client as it was, and goes back to Anthropic", async () => {
    const ask = { role: "user" as const, content: "think secretly [emulator:redacted]" };
    const first = await anthropic.messages.create({
      model: "via-anthropic",
      max_tokens: 4000,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [ask],
    });
    expect(first.content.map((block) => block.type)).toEqual(["thinking", "redacted_thinking", "text"]);
    const second = await anthropic.messages.create({
      model: "via-anthropic",
      max_tokens: 4000,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [
        ask,
        { role: "assistant", content: first.content as Anthropic.ContentBlockParam[] },
        { role: "user", content: "and now?" },
      ],
    });
    expect(second.content.at(-1)).toMatchObject({ type: "text", text: "Echo: and now?" });
    const sent = lastBody(anthropicEmulator).messages as Array<{ content: Array<{ type: string }> }>;
    expect(sent[1]?.content.map((block) => block.type)).toEqual(["thinking", "redacted_thinking", "text"]);
  });

  it("Codex's loop against Anthropic: reasoning items carry the signature in encrypted_content across turns", async () => {
    const tools = [
      {
        type: "function" as const,
        name: lookup.name,
        description: lookup.description,
        parameters: lookup.schema,
        strict: false,
      },
    ];
    const question = { role: "user" as const, content: "look it up [emulator:calls=1]" };
    const stream = openai.responses.stream({
      model: "via-anthropic",
      reasoning: { effort: "low" },
      tools,
      input: [question],
    });
    const deltas: string[] = [];
    stream.on("response.reasoning_text.delta", (event) => deltas.push(event.delta));
    const first = await stream.finalResponse();
    expect(deltas.join("")).toBe("Thinking about: look it up");
    expect(first.output.map((item) => item.type)).toEqual(["reasoning", "function_call"]);
    const reasoning = first.output[0] as OpenAI.Responses.ResponseReasoningItem;
    expect(reasoning.content).toEqual([{ type: "reasoning_text", text: "Thinking about: look it up" }]);
    expect(reasoning.encrypted_content).toMatch(/^gw1\./);
    // An effort is a budget for Anthropic; with no max tokens asked, max_tokens grows to hold it.
    expect(lastBody(anthropicEmulator)).toMatchObject({
      thinking: { type: "enabled", budget_tokens: 2048 },
      max_tokens: 2048 + 4096,
    });

    const call = first.output[1] as OpenAI.Responses.ResponseFunctionToolCall;
    const second = await openai.responses.create({
      model: "via-anthropic",
      reasoning: { effort: "low" },
      tools,
      input: [
        question,
        ...(first.output as OpenAI.Responses.ResponseInputItem[]),
        { type: "function_call_output", call_id: call.call_id, output: "42" },
      ],
    });
    expect(second.status).toBe("completed");
    const sent = lastBody(anthropicEmulator).messages as Array<{ content: Array<{ type: string }> }>;
    expect(sent[1]?.content.map((block) => block.type)).toEqual(["thinking", "tool_use"]);
  });

  it("a Chat Completions loop against Anthropic: the tool-loop step goes without thinking, which a Chat client cannot hand back", async () => {
    const tools = [
      {
        type: "function" as const,
        function: { name: lookup.name, description: lookup.description, parameters: lookup.schema },
      },
    ];
    const question = { role: "user" as const, content: "look it up [emulator:calls=1]" };
    const first = await openai.chat.completions.create({
      model: "via-anthropic",
      reasoning_effort: "high",
      max_completion_tokens: 3000,
      tools,
      messages: [question],
    });
    const message = first.choices[0]?.message as OpenAI.ChatCompletionMessage & {
      reasoning_content?: string;
    };
    expect(message.reasoning_content).toBe("Thinking about: look it up");
    // The budget of a high effort is cut to fit under the caller's max tokens.
    expect(lastBody(anthropicEmulator)).toMatchObject({
      thinking: { type: "enabled", budget_tokens: 2999 },
      max_tokens: 3000,
    });
    const second = await openai.chat.completions.create({
      model: "via-anthropic",
      reasoning_effort: "high",
      max_completion_tokens: 3000,
      tools,
      messages: [
        question,
        { role: "assistant", content: null, tool_calls: message.tool_calls },
        { role: "tool", tool_call_id: message.tool_calls?.[0]?.id ?? "", content: "42" },
      ],
    });
    expect(second.choices[0]?.finish_reason).toBe("stop");
    expect(lastBody(anthropicEmulator).thinking).toBeUndefined();
  });

  it("refuses a reasoning request that cannot fit under a caller's small max tokens at Anthropic", async () => {
    await expect(
      openai.chat.completions.create({
        model: "via-anthropic",
        reasoning_effort: "low",
        max_tokens: 1000,
        messages: [{ role: "user", content: "hi" }],
      }),
    ).rejects.toMatchObject({ status: 400, param: "max_tokens" });
    await expect(
      openai.chat.completions.create({
        model: "via-openai",
        // @ts-expect-error: a value OpenAI does not have, refused at the edge
        reasoning_effort: "extreme",
        messages: [{ role: "user", content: "hi" }],
      }),
    ).rejects.toMatchObject({ status: 400, param: "reasoning_effort" });
  });

  it("maps a thinking budget to OpenAI's effort and Gemini's thinking budget", async () => {
    for (const model of ["via-openai", "via-gemini"]) {
      await anthropic.messages.create({
        model,
        max_tokens: 9000,
        thinking: { type: "enabled", budget_tokens: 5000 },
        messages: [{ role: "user", content: "hi" }],
      });
    }
    expect(lastBody(openaiEmulator).reasoning_effort).toBe("medium");
    expect(lastBody(geminiEmulator).generationConfig).toMatchObject({
      maxOutputTokens: 9000,
      thinkingConfig: { thinkingBudget: 5000, includeThoughts: true },
    });
  });

  // Each inbound API shows the reasoning of every provider that shows it, in its own form, before the answer.
  const shows = {
    openai_chat: {
      path: "/v1/chat/completions",
      body: (model: string, content: string) => ({
        model,
        stream: true,
        reasoning_effort: "low",
        messages: [{ role: "user", content }],
      }),
      read(events: Array<{ event: string; data: string }>) {
        let reasoning = "";
        let answer = "";
        for (const { data } of events) {
          if (data === "[DONE]") continue;
          for (const choice of JSON.parse(data).choices ?? []) {
            reasoning += choice.delta?.reasoning_content ?? "";
            if (choice.delta?.content && reasoning === "") throw new Error("answer before the reasoning");
            answer += choice.delta?.content ?? "";
          }
        }
        return { reasoning, answer };
      },
    },
    anthropic_messages: {
      path: "/v1/messages",
      body: (model: string, content: string) => ({
        model,
        stream: true,
        max_tokens: 4000,
        thinking: { type: "enabled", budget_tokens: 2048 },
        messages: [{ role: "user", content }],
      }),
      read(events: Array<{ event: string; data: string }>) {
        const blocks: string[] = [];
        let reasoning = "";
        let answer = "";
        for (const { event, data } of events) {
          const body = JSON.parse(data);
          if (event === "content_block_start") blocks.push(body.content_block.type);
          if (body.delta?.type === "thinking_delta") reasoning += body.delta.thinking;
          if (body.delta?.type === "text_delta") answer += body.delta.text;
        }
        expect(blocks).toEqual(["thinking", "text"]);
        return { reasoning, answer };
      },
    },
    openai_responses: {
      path: "/v1/responses",
      body: (model: string, content: string) => ({
        model,
        stream: true,
        reasoning: { effort: "low" },
        input: content,
      }),
      read(events: Array<{ event: string; data: string }>) {
        const items: string[] = [];
        let reasoning = "";
        let answer = "";
        for (const { event, data } of events) {
          const body = JSON.parse(data);
          if (event === "response.output_item.added") items.push(body.item.type);
          if (event === "response.reasoning_text.delta") reasoning += body.delta;
          if (event === "response.output_text.delta") answer += body.delta;
        }
        expect(items).toEqual(["reasoning", "message"]);
        return { reasoning, answer };
      },
    },
  };
  const showing = emulatedProviderTypes.filter((type) => {
    const shown = showsReasoning[type];
    if (shown === undefined)
      throw new Error(`does provider type ${type} show reasoning? say so in showsReasoning`);
    return shown;
  });
  const cases = Object.keys(shows).flatMap((shape) =>
    showing.map((provider) => [shape as keyof typeof shows, provider] as const),
  );

  it.each(cases)("%s shows the reasoning of %s, streamed before the answer", async (shape, provider) => {
    const { path, body, read } = shows[shape];
    // The OpenAI emulator shows reasoning as DeepSeek and vLLM do only when told to; the others ignore the directive.
    const response = await fetch(`${gateway.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${testKey}` },
      body: JSON.stringify(body(`via-${provider}`, "hello world [emulator:reasoning-content]")),
    });
    expect(response.status).toBe(200);
    const events: Array<{ event: string; data: string }> = [];
    for await (const event of parseServerSentEvents(response.body as unknown as AsyncIterable<Uint8Array>))
      events.push(event);
    expect(read(events)).toEqual({ reasoning: "Thinking about: hello world", answer: "Echo: hello world" });
  });

  it("reports OpenAI's hidden reasoning as reasoning tokens, whole and streamed", async () => {
    const whole = await openai.chat.completions.create({
      model: "via-openai",
      reasoning_effort: "minimal",
      messages: [{ role: "user", content: "hello world" }],
    });
    expect(lastBody(openaiEmulator).reasoning_effort).toBe("minimal");
    expect(whole.usage?.completion_tokens_details?.reasoning_tokens).toBe(4);
    expect(whole.usage?.completion_tokens).toBe(3 + 4);
    const stream = await anthropic.messages
      .stream({
        model: "via-openai",
        max_tokens: 4000,
        thinking: { type: "enabled", budget_tokens: 1024 },
        messages: [{ role: "user", content: "hello world" }],
      })
      .finalMessage();
    expect(stream.usage.output_tokens).toBe(3 + 4);
  });
});
