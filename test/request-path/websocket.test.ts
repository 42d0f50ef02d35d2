import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { RunningGateway } from "../../app/gateway.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { eventually } from "../support/eventually.ts";
import { busKinds, startTestGateway, testConfig, testKey } from "../support/gateway.ts";

type ServerMessage = { type: string; id: string | null; [field: string]: unknown };

/** A test client: sends JSON messages and collects every message the server sends. */
async function connect(url: string, key = testKey) {
  const socket = new WebSocket(`${url.replace("http", "ws")}/v1/ws`, {
    headers: { authorization: `Bearer ${key}` },
  });
  const received: ServerMessage[] = [];
  socket.on("message", (data) => received.push(JSON.parse(data.toString()) as ServerMessage));
  const closed = new Promise<number>((resolve) => socket.on("close", resolve));
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  return {
    socket,
    received,
    closed,
    send: (message: unknown) => socket.send(typeof message === "string" ? message : JSON.stringify(message)),
    of: (id: string) => received.filter((message) => message.id === id),
    until: (predicate: (messages: ServerMessage[]) => boolean) =>
      eventually(() => expect(predicate(received)).toBe(true)),
  };
}

/** The text of a request's OpenAI chunks, joined. */
const chunkText = (messages: ServerMessage[]) =>
  messages
    .filter((message) => message.type === "chunk")
    .map(
      (message) =>
        (message.data as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? "",
    )
    .join("");

const chat = (content: string) => ({ model: "mock", messages: [{ role: "user", content }] });

describe.each(busKinds)("the WebSocket endpoint on the %s bus", (bus) => {
  let gateway: RunningGateway;
  let openai: OpenAIEmulator;
  beforeAll(async () => {
    openai = await startOpenAIEmulator({});
    gateway = await startTestGateway(
      testConfig(bus, {
        providers: [
          { name: "mock", type: "mock" },
          { name: "o", type: "openai", options: { baseUrl: openai.url, apiKey: "sk-oai" } },
        ],
        models: [
          { name: "mock", provider: "mock" },
          { name: "mock-cached", provider: "mock", model: "mock", cache: { ttlSeconds: 60 } },
          { name: "embedder", provider: "o", model: "text-embedding-3-small" },
        ],
      }),
    );
  });
  afterAll(async () => {
    await gateway?.close();
    await openai?.close();
  });

  it("streams many concurrent requests on one socket, each under its own id, each ending with usage", async () => {
    const client = await connect(gateway.url);
    const ids = Array.from({ length: 10 }, (_, index) => `c${index}`);
    for (const id of ids)
      client.send({ type: "request", id, api: "openai_chat", body: chat(`request ${id}`) });
    client.send({
      type: "request",
      id: "anthropic",
      api: "anthropic_messages",
      body: { model: "mock", max_tokens: 50, messages: [{ role: "user", content: "hi [mock:tokens=2]" }] },
    });
    await client.until(
      (messages) => messages.filter((message) => message.type === "done").length === ids.length + 1,
    );

    for (const id of ids) {
      const messages = client.of(id);
      expect(chunkText(messages)).toBe(`You said: request ${id}`);
      expect(messages.at(-1)).toEqual({
        type: "done",
        id,
        usage: {
          input_tokens: 2,
          output_tokens: 4,
          cached_input_tokens: 0,
          cache_write_tokens: 0,
          reasoning_tokens: 0,
        },
      });
    }
    const anthropicEvents = client
      .of("anthropic")
      .flatMap((message) => (message.type === "chunk" ? [message.event] : []));
    expect(anthropicEvents[0]).toBe("message_start");
    expect(anthropicEvents.at(-1)).toBe("message_stop");
    client.socket.close();
  });

  it("says in `done` what the answer cache did, and replays a hit as chunks", async () => {
    const client = await connect(gateway.url);
    const ask = async (id: string) => {
      client.send({
        type: "request",
        id,
        api: "openai_chat",
        body: { ...chat("cache me"), model: "mock-cached" },
      });
      await client.until(() => client.of(id).some((message) => message.type === "done"));
      return client.of(id);
    };
    const first = await ask("k1");
    const again = await ask("k2");
    expect(first.at(-1)).toMatchObject({ type: "done", cache: "miss" });
    expect(again.at(-1)).toMatchObject({ type: "done", cache: "hit" });
    expect(chunkText(again)).toBe(chunkText(first));
    expect(chunkText(first)).toBe("You said: cache me");
    client.socket.close();
  });

  it("answers embeddings with one response message", async () => {
    const client = await connect(gateway.url);
    client.send({
      type: "request",
      id: "e1",
      api: "openai_embeddings",
      body: { model: "mock", input: "alpha" },
    });
    await client.until((messages) => messages.some((message) => message.type === "done"));
    const [response] = client.of("e1");
    expect(response).toMatchObject({
      type: "response",
      id: "e1",
      data: { object: "list", data: [{ index: 0 }] },
    });
    client.socket.close();
  });

  it("cancels a request on a cancel message, and everything when the socket closes", async () => {
    const client = await connect(gateway.url);
    const slow = chat("slow [mock:tokens=5000] [mock:delay_ms=10]");
    client.send({ type: "request", id: "long", api: "openai_chat", body: slow });
    await client.until((messages) => messages.filter((message) => message.type === "chunk").length >= 2);
    client.send({ type: "cancel", id: "long" });
    await client.until((messages) =>
      messages.some((message) => message.type === "cancelled" && message.id === "long"),
    );
    await eventually(() => expect(gateway.worker?.inFlight).toBe(0));

    client.send({ type: "request", id: "a", api: "openai_chat", body: slow });
    client.send({ type: "request", id: "b", api: "openai_chat", body: slow });
    await client.until((messages) =>
      ["a", "b"].every((id) => messages.some((message) => message.id === id && message.type === "chunk")),
    );
    client.socket.close();
    await eventually(() => expect(gateway.worker?.inFlight).toBe(0));
  });

  it("confirms the cancel of a whole answer (embeddings) as it does a stream's", async () => {
    const client = await connect(gateway.url);
    const body = { model: "embedder", input: "slow [emulator:latency=30000]" };
    client.send({ type: "request", id: "whole", api: "openai_embeddings", body });
    await eventually(() => expect(gateway.worker?.inFlight).toBe(1));
    client.send({ type: "cancel", id: "whole" });
    await client.until((messages) => messages.some((message) => message.id === "whole"));
    expect(client.of("whole")).toEqual([{ type: "cancelled", id: "whole" }]);
    await eventually(() => expect(gateway.worker?.inFlight).toBe(0));
    client.socket.close();
  });

  it("answers bad messages with errors in the API's shape and keeps the socket open", async () => {
    const client = await connect(gateway.url);
    client.send("not json");
    client.send({ type: "request", id: "x1", api: "nope", body: {} });
    client.send({
      type: "request",
      id: "x2",
      api: "openai_chat",
      body: { model: "gpt-nope", messages: [{ role: "user", content: "x" }] },
    });
    client.send({
      type: "request",
      id: "x3",
      api: "anthropic_messages",
      body: { model: "mock", messages: [] },
    });
    client.send({ type: "request", id: "x4", api: "openai_chat", body: chat("fail [mock:error=500]") });
    client.send({ type: "request", id: "ok", api: "openai_chat", body: chat("still here") });
    await client.until(
      (messages) =>
        messages.filter((message) => message.type === "error").length === 5 &&
        client.of("ok").some((m) => m.type === "done"),
    );

    const errors = client.received.filter((message) => message.type === "error");
    expect(errors.find((message) => message.id === null)).toMatchObject({
      status: 400,
      error: { error: { message: "a message must be JSON" } },
    });
    expect(client.of("x1")[0]).toMatchObject({ status: 400 });
    expect(client.of("x2")[0]).toMatchObject({ status: 404, error: { error: { code: "model_not_found" } } });
    expect(client.of("x3")[0]).toMatchObject({
      status: 400,
      error: { type: "error", error: { type: "invalid_request_error" } },
    });
    expect(client.of("x4")[0]).toMatchObject({ status: 502, error: { error: { type: "server_error" } } });
    client.socket.close();
  });

  it("refuses a socket without a valid key", async () => {
    const client = await connect(gateway.url, "wrong-key-123");
    expect(await client.closed).toBe(1008);
    expect(client.received[0]).toMatchObject({ type: "error", status: 401 });
  });
});
