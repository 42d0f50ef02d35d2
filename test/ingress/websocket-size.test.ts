import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningGateway, startGateway } from "../../app/gateway.ts";
import { testConfig, testKey } from "../support/gateway.ts";
import { capturedLog } from "../support/log-lines.ts";

/**
 * A WebSocket message is held to server.bodyLimitBytes as an HTTP body is (the WebSocket library's
 * own limit is 100 MiB): a larger one closes the socket with 1009, "message too big", a client's
 * mistake logged as such (not as an error of the gateway's).
 */
describe("the size of WebSocket messages", () => {
  const { log, lines } = capturedLog();
  let gateway: RunningGateway;
  beforeAll(async () => {
    gateway = await startGateway(testConfig("in-process", { server: { bodyLimitBytes: 4096 } }), log, "all");
  });
  afterAll(() => gateway?.close());

  async function connect() {
    const socket = new WebSocket(`${gateway.url.replace("http", "ws")}/v1/ws`, {
      headers: { authorization: `Bearer ${testKey}` },
    });
    const received: Array<{ type: string }> = [];
    socket.on("message", (data) => received.push(JSON.parse(data.toString())));
    const closed = new Promise<number>((resolve) => socket.on("close", resolve));
    await new Promise((resolve) => socket.once("open", resolve));
    return { socket, received, closed };
  }
  const request = (content: string) =>
    JSON.stringify({
      type: "request",
      id: "r",
      api: "openai_chat",
      body: { model: "mock", messages: [{ role: "user", content }] },
    });

  it("closes the socket with 1009 on a message over the body limit", async () => {
    const { socket, received, closed } = await connect();
    socket.send(request("x".repeat(5000)));
    const stillOpen = new Promise((resolve) => setTimeout(() => resolve("still open after 5 s"), 5000));
    expect(await Promise.race([closed, stillOpen])).toBe(1009);
    expect(received).toEqual([]);
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: "websocket closed on a client's protocol error",
        code: "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH",
      }),
    );
  });

  it("serves a message within the limit", async () => {
    const { socket, received } = await connect();
    socket.send(request("x".repeat(3000)));
    await new Promise<void>((resolve) =>
      socket.on("message", () => received.at(-1)?.type === "done" && resolve()),
    );
    socket.close();
    expect(received.at(-1)).toMatchObject({ type: "done", id: "r" });
  });
});
