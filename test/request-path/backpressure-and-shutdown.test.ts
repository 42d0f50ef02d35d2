import { logLevel } from "kafkajs";
import { describe, expect, inject, it } from "vitest";
import { newKafka } from "../../runtime/kafkajs.ts";
import { priorities } from "../../schemas/request-envelope.ts";
import { eventually } from "../support/eventually.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

const slow = (content: string, tokens: number) => ({
  model: "mock",
  stream: true,
  messages: [{ role: "user", content: `${content} [mock:tokens=${tokens}] [mock:delay_ms=20]` }],
});

function post(url: string, path: string, body: unknown) {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${testKey}` },
    body: JSON.stringify(body),
  });
}

describe("bounded work and graceful shutdown", () => {
  it("answers 503 (OpenAI) or 529 (Anthropic) with Retry-After once a priority holds its maximum", async () => {
    const gateway = await startTestGateway(
      testConfig("in-process", { ingress: { maxInFlight: { interactive: 2 } } }),
    );
    const held = [
      post(gateway.url, "/v1/chat/completions", slow("a", 50)),
      post(gateway.url, "/v1/chat/completions", slow("b", 50)),
    ];
    const streams = await Promise.all(held);
    const refused = await post(gateway.url, "/v1/chat/completions", slow("c", 1));
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await refused.json()).toMatchObject({ error: { type: "server_error", code: "overloaded" } });
    const anthropic = await post(gateway.url, "/v1/messages", {
      model: "mock",
      max_tokens: 5,
      messages: [{ role: "user", content: "x" }],
    });
    expect(anthropic.status).toBe(529);
    expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: "overloaded_error" } });

    // Other priorities have their own room.
    const batch = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${testKey}`,
        "x-gateway-priority": "batch",
      },
      body: JSON.stringify({ model: "mock", messages: [{ role: "user", content: "x" }] }),
    });
    expect(batch.status).toBe(200);
    await Promise.all(streams.map((response) => response.text()));
    const afterwards = await post(gateway.url, "/v1/chat/completions", {
      model: "mock",
      messages: [{ role: "user", content: "x" }],
    });
    expect(afterwards.status).toBe(200);
    await gateway.close();
  });

  it.each(["kafkajs", "platformatic"] as const)(
    "on shutdown (requests on %s): stops being ready, lets short streams finish, ends long ones with an error event, commits offsets",
    async (client) => {
      const namespace = `shutdown${client}${Date.now()}`;
      const gateway = await startTestGateway(
        testConfig("kafka", { server: { shutdownGraceMs: 1500 }, kafka: { client } }, namespace),
      );
      const short = await post(gateway.url, "/v1/chat/completions", slow("short", 20));
      const long = await post(gateway.url, "/v1/chat/completions", slow("long", 1000));
      const closing = gateway.close();
      await eventually(async () => {
        const ready = await fetch(`${gateway.url}/readyz`).catch(() => undefined);
        expect(ready === undefined || ready.status === 503).toBe(true);
      });
      const [shortText, longText] = await Promise.all([short.text(), long.text()]);
      await closing;

      expect(shortText.trim().endsWith("data: [DONE]")).toBe(true);
      expect(longText).toMatch(/"error":\{"message":"the gateway is shutting down; retry the request"/);
      expect(longText).not.toMatch(/\[DONE\]/);

      const admin = newKafka({
        brokers: inject("services").kafka.brokers,
        logLevel: logLevel.NOTHING,
      }).admin();
      await admin.connect();
      for (const priority of priorities) {
        const topic = `test-${namespace}.requests.${priority}`;
        const [committed] = await admin.fetchOffsets({
          groupId: `test-${namespace}.workers`,
          topics: [topic],
        });
        const ends = await admin.fetchTopicOffsets(topic);
        const endTotal = ends.reduce((sum, { high }) => sum + Number(high), 0);
        const committedTotal = (committed?.partitions ?? []).reduce(
          (sum, { offset }) => sum + Math.max(0, Number(offset)),
          0,
        );
        expect(committedTotal).toBe(endTotal);
      }
      await admin.disconnect();
    },
  );
});
