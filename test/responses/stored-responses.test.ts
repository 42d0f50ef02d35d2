import OpenAI, { APIError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import type { Emulator } from "../emulators/json-server.ts";
import { startEmulatedProvider } from "../emulators/providers.ts";
import { adminApi } from "../support/admin.ts";
import { eventually } from "../support/eventually.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

/**
 * Stateful Responses through the official SDK: `previous_response_id` chains turns the gateway
 * rebuilds for a provider that keeps nothing (Anthropic, which must receive the whole
 * conversation) and for the mock; stored responses are retrieved, listed, deleted, refused to
 * other tenants, and expire.
 */
describe("stored responses", () => {
  let anthropic: Emulator;
  let gateway: RunningGateway;
  let client: OpenAI;
  const otherKey = "batch-key-0123456789"; // a configured key of its own: another tenant
  const other = () => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: otherKey, maxRetries: 0 });
  const admin = adminApi(() => gateway.url);
  const anthropicBody = () => anthropic.requests.at(-1)?.body as { system?: unknown; messages: unknown[] };
  const notFound = (promise: Promise<unknown>) =>
    expect(promise).rejects.toMatchObject({ status: 404, error: { type: "invalid_request_error" } });

  beforeAll(async () => {
    const provider = await startEmulatedProvider("anthropic");
    anthropic = provider.emulator;
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: [
          { name: "anthropic", type: "anthropic", options: provider.options },
          { name: "mock", type: "mock" },
        ],
        models: [
          { name: "claude", provider: "anthropic", model: "claude-x" },
          { name: "mock", provider: "mock" },
        ],
      }),
    );
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.close();
    await anthropic?.close();
  });

  it("rebuilds a 3-turn conversation with a function call for Anthropic, with only the last turn's instructions", async () => {
    const tools = [
      { type: "function" as const, name: "lookup", parameters: { type: "object" }, strict: false },
    ];
    const first = await client.responses.create({
      model: "claude",
      instructions: "Be brief.",
      tools,
      input: "look it up [emulator:calls=1]",
    });
    const call = first.output.find((item) => item.type === "function_call");
    expect(call).toMatchObject({ name: "lookup" });
    expect(JSON.stringify(anthropicBody().system)).toContain("Be brief.");

    const second = await client.responses.create({
      model: "claude",
      previous_response_id: first.id,
      tools,
      input: [{ type: "function_call_output", call_id: call?.call_id ?? "", output: "42" }],
    });
    expect(second.previous_response_id).toBe(first.id);
    expect(anthropicBody().system).toBeUndefined();
    expect(anthropicBody().messages).toMatchObject([
      { role: "user", content: [{ type: "text", text: "look it up [emulator:calls=1]" }] },
      { role: "assistant", content: [{ type: "tool_use", id: call?.call_id, name: "lookup" }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: call?.call_id }] },
    ]);

    const third = await client.responses.create({
      model: "claude",
      previous_response_id: second.id,
      instructions: "Be formal.",
      input: "thanks",
    });
    expect(third.instructions).toBe("Be formal.");
    expect(JSON.stringify(anthropicBody().system)).toContain("Be formal.");
    expect(JSON.stringify(anthropicBody().system)).not.toContain("Be brief.");
    expect(anthropicBody().messages).toMatchObject([
      { role: "user" },
      { role: "assistant", content: [{ type: "tool_use" }] },
      { role: "user", content: [{ type: "tool_result" }] },
      { role: "assistant", content: [{ type: "text", text: second.output_text }] },
      { role: "user", content: [{ type: "text", text: "thanks" }] },
    ]);
    expect(await client.responses.retrieve(third.id)).toEqual(third);
  });

  it("hands Anthropic its signed reasoning back from the stored output of the previous turn", async () => {
    const tools = [
      { type: "function" as const, name: "lookup", parameters: { type: "object" }, strict: false },
    ];
    const first = await client.responses.create({
      model: "claude",
      reasoning: { effort: "low" },
      tools,
      input: "look it up [emulator:calls=1]",
    });
    expect(first.output.map((item) => item.type)).toEqual(["reasoning", "function_call"]);
    const call = first.output[1] as OpenAI.Responses.ResponseFunctionToolCall;
    // The emulator refuses a tool loop whose last assistant turn lacks its own signed thinking, as Anthropic does.
    const second = await client.responses.create({
      model: "claude",
      reasoning: { effort: "low" },
      tools,
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: call.call_id, output: "42" }],
    });
    expect(second.status).toBe("completed");
    expect(anthropicBody().messages[1]).toMatchObject({
      role: "assistant",
      content: [{ type: "thinking", signature: expect.any(String) }, { type: "tool_use" }],
    });
  });

  it("chains streamed turns on the mock, which is sent the whole conversation each time", async () => {
    // The mock counts every word of the conversation it is sent as input tokens, and answers "You said: <input>".
    let completed: unknown;
    const turn = async (input: string, previous?: string) => {
      const stream = client.responses.stream({ model: "mock", input, previous_response_id: previous });
      stream.on("response.completed", (event) => {
        completed = event.response;
      });
      return stream.finalResponse();
    };
    const first = await turn("alpha");
    expect(first.usage?.input_tokens).toBe(1);
    const second = await turn("beta", first.id);
    expect(second.usage?.input_tokens).toBe(1 + 3 + 1);
    const third = await turn("gamma", second.id);
    expect(third.usage?.input_tokens).toBe(5 + 3 + 1);
    expect(third.output_text).toBe("You said: gamma");
    // Stored as the stream's last event carried it.
    expect(await client.responses.retrieve(third.id)).toEqual({
      ...(completed as object),
      output_text: third.output_text,
    });

    // Every item the third response was made from: each turn's input and output, newest first.
    const texts = (items: OpenAI.Responses.ResponseItem[]) =>
      items.map((item) => (item.type === "message" ? (item.content[0] as { text: string }).text : item.type));
    const conversation = ["alpha", "You said: alpha", "beta", "You said: beta", "gamma"];
    const all = await client.responses.inputItems.list(third.id);
    expect(texts(all.data)).toEqual([...conversation].reverse());
    const listed: OpenAI.Responses.ResponseItem[] = [];
    for await (const item of client.responses.inputItems.list(third.id, { limit: 2, order: "asc" }))
      listed.push(item);
    expect(texts(listed)).toEqual(conversation);

    const page = await fetch(`${gateway.url}/v1/responses/${third.id}/input_items?limit=2&order=asc`, {
      headers: { authorization: `Bearer ${testKey}` },
    }).then((response) => response.json());
    expect(page).toMatchObject({
      object: "list",
      has_more: true,
      first_id: listed[0]?.id,
      last_id: listed[1]?.id,
    });
    const last = await fetch(
      `${gateway.url}/v1/responses/${third.id}/input_items?limit=2&order=asc&after=${listed[3]?.id}`,
      { headers: { authorization: `Bearer ${testKey}` } },
    ).then((response) => response.json());
    expect(last).toMatchObject({ has_more: false, first_id: listed[4]?.id, last_id: listed[4]?.id });
    const bad = await fetch(`${gateway.url}/v1/responses/${third.id}/input_items?limit=101`, {
      headers: { authorization: `Bearer ${testKey}` },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { param: "limit", type: "invalid_request_error" } });
  });

  it("stores a stream that fails after it began as failed, with the error the caller was sent", async () => {
    const stream = await client.responses.create({
      model: "claude",
      stream: true,
      input: "a b c d [emulator:midstream]",
    });
    let id = "";
    let sentError: { message: string } | undefined;
    // The SDK (7 on) turns a stream's `error` event into a thrown APIError, as on OpenAI itself.
    try {
      for await (const event of stream) if (event.type === "response.created") id = event.response.id;
    } catch (error) {
      expect(error).toBeInstanceOf(APIError);
      sentError = (error as APIError).error as { message: string };
    }
    expect(sentError?.message).toBeTruthy();
    expect(await client.responses.retrieve(id)).toMatchObject({
      id,
      status: "failed",
      error: { message: sentError?.message },
    });
  });

  it("forgets a deleted response, and one made with store: false, and refuses to chain to either", async () => {
    const kept = await client.responses.create({ model: "mock", input: "keep me" });
    expect(await client.responses.delete(kept.id)).toEqual({
      id: kept.id,
      object: "response",
      deleted: true,
    });
    await notFound(client.responses.retrieve(kept.id));
    await notFound(client.responses.delete(kept.id));
    await expect(
      client.responses.create({ model: "mock", input: "next", previous_response_id: kept.id }),
    ).rejects.toMatchObject({ status: 404, error: { param: "previous_response_id" } });

    const unstored = await client.responses.create({ model: "mock", input: "forget me", store: false });
    expect(unstored).toMatchObject({ store: false });
    await notFound(client.responses.retrieve(unstored.id));
    await notFound(client.responses.inputItems.list(unstored.id));
    await expect(
      client.responses.create({ model: "mock", input: "next", previous_response_id: unstored.id }),
    ).rejects.toMatchObject({ status: 404, error: { param: "previous_response_id" } });
  });

  it("answers another tenant's key as if the response did not exist, and shares responses within a team", async () => {
    const mine = await client.responses.create({ model: "mock", input: "private" });
    await notFound(other().responses.retrieve(mine.id));
    await notFound(other().responses.inputItems.list(mine.id));
    await notFound(other().responses.delete(mine.id));
    await expect(
      other().responses.create({ model: "mock", input: "next", previous_response_id: mine.id }),
    ).rejects.toMatchObject({ status: 404 });
    expect((await client.responses.retrieve(mine.id)).id).toBe(mine.id);

    await admin("POST", "/admin/teams", { id: "writers" });
    const [one, two] = await Promise.all([
      admin("POST", "/admin/keys", { team: "writers" }),
      admin("POST", "/admin/keys", { team: "writers" }),
    ]);
    const teamClient = (key: string | undefined) =>
      new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
    const shared = await teamClient(one?.body.key).responses.create({ model: "mock", input: "for the team" });
    const next = await teamClient(two?.body.key).responses.create({
      model: "mock",
      input: "and more",
      previous_response_id: shared.id,
    });
    expect(next.usage?.input_tokens).toBe(3 + 5 + 2);
    await notFound(client.responses.retrieve(shared.id));
  });

  it("refuses a malformed id as unknown, in OpenAI's shape", async () => {
    const answer = await fetch(`${gateway.url}/v1/responses/..%2F..%2Fetc`, {
      headers: { authorization: `Bearer ${testKey}` },
    });
    expect(answer.status).toBe(404);
    expect(await answer.json()).toMatchObject({ error: { type: "invalid_request_error" } });
  });
});

describe("stored responses with a short time to live", () => {
  let gateway: RunningGateway;

  beforeAll(async () => {
    gateway = await startTestGateway(testConfig("in-process", { responses: { ttlSeconds: 3 } }));
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it("forgets a response once its time is up", async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
    const made = await client.responses.create({ model: "mock", input: "short-lived" });
    expect((await client.responses.retrieve(made.id)).id).toBe(made.id);
    await eventually(
      () => expect(client.responses.retrieve(made.id)).rejects.toMatchObject({ status: 404 }),
      10_000,
    );
  });
});
