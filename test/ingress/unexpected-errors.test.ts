import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningGateway, startGateway } from "../../app/gateway.ts";
import { errorToAnswer } from "../../calls/errors.ts";
import { GatewayError } from "../../schemas/errors.ts";
import { testConfig, testKey } from "../support/gateway.ts";
import { capturedLog, type LogLine } from "../support/log-lines.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";

/**
 * What the gateway did not expect reaches the caller as a 500 "the gateway failed to handle the
 * request", in its API's shape; the log gets the cause — its type, message and stack — as one
 * structured line. Here the unexpected is real: the batch store's Redis cut off (a TCP proxy
 * drops it), which nothing on the batch routes turns into an error of its own.
 */
describe("an unexpected error", () => {
  const { log, lines } = capturedLog();
  let proxy: TcpProxy;
  let gateway: RunningGateway;

  beforeAll(async () => {
    proxy = await startTcpProxy(new URL(inject("services").redis.url));
    gateway = await startGateway(
      testConfig("in-process", { redis: { url: proxy.url, keyPrefix: `test-${randomUUID().slice(0, 8)}:` } }),
      log,
      "all",
    );
    // Cut once the store has connected (before that, its commands would wait for the connection).
    const listed = await fetch(`${gateway.url}/v1/batches`, {
      headers: { authorization: `Bearer ${testKey}` },
    });
    expect(listed.status).toBe(200);
    proxy.cut();
  });
  afterAll(async () => {
    proxy?.restore();
    await gateway?.close();
    await proxy?.close();
  });

  const failures = () => lines.filter((line) => line.msg === "the gateway failed to handle the request");

  it.each([
    ["/v1/batches", { error: { message: "the gateway failed to handle the request", type: "server_error" } }],
    [
      "/v1/messages/batches",
      { type: "error", error: { type: "api_error", message: "the gateway failed to handle the request" } },
    ],
  ])("on GET %s is a 500 in the caller's shape, its cause logged in one line", async (path, body) => {
    const before = failures().length;
    const response = await fetch(`${gateway.url}${path}`, {
      headers: { authorization: `Bearer ${testKey}` },
    });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject(body);
    const logged = failures().slice(before);
    expect(logged).toHaveLength(1);
    const { err } = logged[0] as LogLine & { err: { type: string; message: string; stack: string } };
    // ioredis's own error, not the gateway's rewording of it.
    expect(err.type).toBe("Error");
    expect(err.message).toMatch(/enableOfflineQueue|writeable|Connection is closed/);
    expect(err.stack).toContain(err.message);
    expect(err.stack.split("\n").length).toBeGreaterThan(2);
    expect(logged[0]).toMatchObject({ level: 50, reqId: expect.any(String) });
  });

  it("is logged as the value thrown, by the one function every catch-all of the edge answers through", () => {
    const own = capturedLog();
    const overflow = new RangeError("Maximum call stack size exceeded");
    expect(errorToAnswer(overflow, own.log)).toMatchObject({ code: "internal", status: 500 });
    expect(errorToAnswer(new GatewayError("invalid_request", "model: Expected string"), own.log).status).toBe(
      400,
    );
    expect(own.lines).toEqual([
      expect.objectContaining({
        level: 50,
        msg: "the gateway failed to handle the request",
        err: expect.objectContaining({
          type: "RangeError",
          message: overflow.message,
          stack: overflow.stack,
        }),
      }),
    ]);
  });
});
