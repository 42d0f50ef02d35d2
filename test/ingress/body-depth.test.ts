import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { RunningGateway } from "../../app/gateway.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

/**
 * The JSON text of a body whose value `deep` is arrays and objects `levels` deep, {"a":[{"a":[…]}]}
 * (written as text: JSON.stringify itself runs out of stack on the depths tried here).
 */
function withDeep(body: (deep: unknown) => unknown, levels: number): string {
  const opening = Array.from({ length: levels }, (_, level) => (level % 2 === 0 ? '{"a":' : "["));
  const closing = opening.map((open) => (open === "[" ? "]" : "}")).reverse();
  return JSON.stringify(body(placeholder)).replace(
    `"${placeholder}"`,
    `${opening.join("")}1${closing.join("")}`,
  );
}
const placeholder = "deep-value";

const user = [{ role: "user", content: "hi" }];
const chatWith = (deep: unknown) => ({ model: "m", messages: user, extra: deep });
const messagesWith = (deep: unknown) => ({ model: "m", max_tokens: 5, messages: user, extra: deep });
/** A valid body of each API with `deep` put where the outside check put it, and how deep it sits there. */
const bodies: Array<[string, string, (deep: unknown) => Record<string, unknown>, number]> = [
  ["an unknown field", "/v1/chat/completions", chatWith, 1],
  [
    "tools[].function.parameters",
    "/v1/chat/completions",
    (deep) => ({
      model: "m",
      messages: user,
      tools: [{ type: "function", function: { name: "f", parameters: { deep } } }],
    }),
    5,
  ],
  [
    "response_format.json_schema.schema",
    "/v1/chat/completions",
    (deep) => ({
      model: "m",
      messages: user,
      response_format: { type: "json_schema", json_schema: { name: "s", schema: { deep } } },
    }),
    4,
  ],
  ["an unknown Messages field", "/v1/messages", messagesWith, 1],
  [
    "a Messages tool_use input",
    "/v1/messages",
    (deep) => ({
      model: "m",
      max_tokens: 5,
      messages: [
        { role: "assistant", content: [{ type: "tool_use", id: "t", name: "f", input: { deep } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: "ok" }] },
      ],
    }),
    6,
  ],
  ["Responses metadata", "/v1/responses", (deep) => ({ model: "m", input: "hi", metadata: { deep } }), 2],
  ["an unknown Embeddings field", "/v1/embeddings", (deep) => ({ model: "m", input: "hi", extra: deep }), 1],
];

/**
 * Bodies nested deeper than server.bodyDepthLimit (128 by default) are refused at the edge with a
 * 400 in the caller's shape naming the limit, whether they come over HTTP, a WebSocket or in a
 * batch file; none reaches the provider. Outside checks found 5,000 levels answered with a 500.
 */
describe("the nesting depth of bodies", () => {
  let emulator: OpenAIEmulator;
  let gateway: RunningGateway;

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({});
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "k" } }],
        models: [{ name: "m", provider: "p", model: "m" }],
      }),
    );
  });
  afterAll(async () => {
    await gateway?.close();
    await emulator?.close();
  });

  const post = (path: string, body: string) =>
    fetch(`${gateway.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${testKey}` },
      body,
    });

  it.each(bodies)("refuses 5,000 levels in %s with a 400 naming the limit", async (_name, path, body) => {
    const before = emulator.requests.length;
    const response = await post(path, withDeep(body, 5000));
    expect(response.status).toBe(400);
    const message = "levels deep here; this gateway accepts at most 128 (server.bodyDepthLimit)";
    expect(await response.json()).toEqual(
      path === "/v1/messages"
        ? {
            type: "error",
            error: { type: "invalid_request_error", message: expect.stringContaining(message) },
          }
        : {
            error: {
              type: "invalid_request_error",
              code: null,
              message: expect.stringContaining(message),
              param: expect.any(String),
            },
          },
    );
    expect(emulator.requests.length).toBe(before);
  });

  it.each(bodies)("serves %s nested exactly to the limit", async (_name, path, body, above) => {
    expect((await post(path, withDeep(body, 128 - above))).status).toBe(200);
    expect((await post(path, withDeep(body, 128 - above + 1))).status).toBe(400);
  });

  it("names where the body is too deep", async () => {
    const [, path, body] = bodies[1] as (typeof bodies)[number];
    const response = await post(path, withDeep(body, 200));
    expect(await response.json()).toMatchObject({
      error: {
        param: "tools.0.function.parameters",
        message: expect.stringMatching(
          /^tools\.0\.function\.parameters: arrays and objects nest more than 128/,
        ),
      },
    });
  });

  it("refuses a deep body on the WebSocket the same way, in the request's shape", async () => {
    const socket = new WebSocket(`${gateway.url.replace("http", "ws")}/v1/ws`, {
      headers: { authorization: `Bearer ${testKey}` },
    });
    await new Promise((resolve) => socket.once("open", resolve));
    const answers = new Promise<unknown[]>((resolve) => {
      const received: unknown[] = [];
      socket.on("message", (data) => {
        received.push(JSON.parse(data.toString()));
        if (received.length === 2) resolve(received);
      });
    });
    socket.send(
      withDeep((deep) => ({ type: "request", id: "o", api: "openai_chat", body: chatWith(deep) }), 5000),
    );
    socket.send(
      withDeep(
        (deep) => ({ type: "request", id: "a", api: "anthropic_messages", body: messagesWith(deep) }),
        5000,
      ),
    );
    const byId = Object.fromEntries(
      ((await answers) as Array<{ id: string }>).map((answer) => [answer.id, answer]),
    );
    socket.close();
    expect(byId.o).toEqual({
      type: "error",
      id: "o",
      status: 400,
      error: { error: expect.objectContaining({ param: "extra.a.0.a", type: "invalid_request_error" }) },
    });
    expect(byId.a).toEqual({
      type: "error",
      id: "a",
      status: 400,
      error: {
        type: "error",
        error: { type: "invalid_request_error", message: expect.stringContaining("128") },
      },
    });
  });

  it("refuses a batch file with a deep line, naming the line", async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
    const line = (id: string, deep: unknown) => ({
      custom_id: id,
      method: "POST",
      url: "/v1/chat/completions",
      body: chatWith(deep),
    });
    const content = `${JSON.stringify(line("ok", 1))}\n${withDeep((deep) => line("deep", deep), 5000)}`;
    const refused = await openai.files
      .create({ file: await toFile(Buffer.from(content), "in.jsonl"), purpose: "batch" })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(
      /line 2: body\.extra\.a\.0\.a: arrays and objects nest more than 128 levels deep/,
    );
  });
});
