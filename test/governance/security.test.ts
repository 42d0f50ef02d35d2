import { request as httpRequest } from "node:http";
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import { logLevel } from "kafkajs";
import OpenAI from "openai";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../../app/gateway.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import { createKeyring, hashKey } from "../../governance/keys/keyring.ts";
import { newKafka } from "../../runtime/kafkajs.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { adminApi } from "../support/admin.ts";
import { eventually } from "../support/eventually.ts";
import { masterKey, queryAnalytics, testConfig, testKey } from "../support/gateway.ts";
import { startOtlpReceiver } from "../support/otlp-receiver.ts";

const providerKey = "sk-provider-canary-5f2e9c1d7a";
const wrongKey = "gwk-wrong-canary-8d3b6a0f4e71c2";

/** A raw HTTP request, for what fetch refuses to send (odd paths, Host headers). */
function raw(url: string, method: string, path: string, headers: Record<string, string>, body?: string) {
  const target = new URL(url);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const outgoing = httpRequest(
      { host: target.hostname, port: target.port, method, path, headers, setHost: !("host" in headers) },
      (response) => {
        let text = "";
        response.on("data", (chunk) => {
          text += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

/**
 * The edge against hostile input, and secrets against every place they could leak: logs, Kafka,
 * ClickHouse, Redis, traces and error bodies are searched for every key the test used.
 */
describe("governance security", () => {
  let emulator: OpenAIEmulator;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let config: GatewayConfig;
  let gateway: RunningGateway;
  const logLines: string[] = [];
  let virtualKey = "";
  let rotatedKey = "";

  const admin = adminApi(() => gateway.url);

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: providerKey });
    receiver = await startOtlpReceiver();
    config = testConfig("kafka", {
      providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: providerKey } }],
      models: [{ name: "chat", provider: "p", model: "chat-model" }],
      tracing: { endpoint: receiver.url },
      log: { level: "trace" },
    });
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    gateway = await startGateway(config, pino({ level: "trace" }, sink));
    await admin("POST", "/admin/teams", { id: "sec" });
    virtualKey = (await admin("POST", "/admin/keys", { team: "sec" })).body.key;
  });
  afterAll(async () => {
    await gateway?.close();
    await emulator?.close();
    await receiver?.close();
  });

  it("refuses injection in keys and headers with a clear error, and keeps serving", async () => {
    const hostile = [
      "' OR '1'='1",
      '{"$ne": null}',
      "x".repeat(10_000),
      "key\u0000with-nul",
      "../../etc/passwd",
      `${testKey}' --`,
      hashKey(testKey), // the stored form of a key is not a key
      hashKey(masterKey),
    ];
    for (const key of hostile) {
      const answer = await raw(
        gateway.url,
        "POST",
        "/v1/chat/completions",
        {
          "x-api-key": key.replaceAll("\u0000", "%00"),
          "content-type": "application/json",
        },
        JSON.stringify({ model: "chat", messages: [{ role: "user", content: "hi" }] }),
      );
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "invalid_api_key" } });
    }
    const tags = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${virtualKey}`,
        "content-type": "application/json",
        "x-gateway-tags": "app=x'); DROP TABLE requests; --",
      },
      body: JSON.stringify({ model: "chat", messages: [{ role: "user", content: "tagged" }] }),
    });
    expect(tags.status).toBe(200);
    // Stored as the text it is, in a table that is still there.
    await eventually(async () => {
      const rows = await queryAnalytics<{ value: string }>(
        config,
        "SELECT tags['app'] AS value FROM requests WHERE stage = 'finished' AND tags['app'] != ''",
      );
      expect(rows).toEqual([{ value: "x'); DROP TABLE requests; --" }]);
    }, 20_000);
    // Ids with SQL or paths in them never reach a store.
    expect((await admin("POST", "/admin/teams", { id: "x'); DROP TABLE audit_log; --" })).status).toBe(400);
    expect((await admin("GET", "/admin/keys/..%2F..%2Fteams")).status).toBe(404);
  });

  it("keeps the admin API closed whatever the path, host or forwarding headers say", async () => {
    const paths = [
      "/admin/keys",
      "//admin/keys",
      "/admin//keys",
      "/admin/keys/",
      "/ADMIN/keys",
      "/admin/%6Beys",
      "/v1/../admin/keys",
      "/admin/./keys",
      "/admin/keys?x=/../v1/models",
      "/admin/keys%2F",
    ];
    for (const path of paths)
      for (const key of [testKey, virtualKey, ""]) {
        const answer = await raw(gateway.url, "GET", path, {
          ...(key && { authorization: `Bearer ${key}` }),
          host: "localhost",
          "x-forwarded-for": "127.0.0.1",
          "x-forwarded-host": "admin.internal",
          "x-original-url": "/admin/keys",
          "x-rewrite-url": "/admin/keys",
        });
        expect([401, 403, 404], `${path} with ${key ? "a key" : "no key"}`).toContain(answer.status);
        expect(answer.body).not.toContain('"object":"list"');
      }
    const models = await raw(gateway.url, "GET", "/v1/models", {
      authorization: `Bearer ${testKey}`,
      "x-original-url": "/admin/keys",
    });
    expect(models.status).toBe(200);
    expect(JSON.parse(models.body).data.map((model: { id: string }) => model.id)).toContain("chat");
  });

  it("finds keys by their digest only: the keyring keeps no key", () => {
    const keyring = createKeyring({ keys: [{ key: testKey }], masterKey });
    expect(JSON.stringify(keyring)).not.toContain(testKey);
    expect(keyring.authenticate(masterKey).admin).toBe(true);
    // A key one character off, at the start or at the end, is refused the same way.
    for (const near of [`x${masterKey.slice(1)}`, `${masterKey.slice(0, -1)}x`])
      expect(() => keyring.authenticate(near)).toThrow("not valid");
  });

  it("never writes a key to logs, Kafka, ClickHouse, Redis, traces or error bodies", async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: virtualKey, maxRetries: 0 });
    await client.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "plain" }] });
    const stream = await client.chat.completions.create({
      model: "chat",
      stream: true,
      messages: [{ role: "user", content: "streamed" }],
    });
    for await (const _chunk of stream);
    await client.chat.completions
      .create({ model: "chat", messages: [{ role: "user", content: "[emulator:status=500] fails" }] })
      .catch(() => undefined);
    const refused = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${wrongKey}`, "content-type": "application/json" },
      body: "{}",
    });
    const keyId = ((await admin("GET", "/admin/keys?team=sec")).body.data as Array<{ id: string }>)[0]?.id;
    rotatedKey = (await admin("POST", `/admin/keys/${keyId}/rotate`, {})).body.key;
    const canaries = [virtualKey, rotatedKey, wrongKey, masterKey, testKey, providerKey];
    const leaks = (place: string, text: string) =>
      canaries.filter((canary) => text.includes(canary)).map((canary) => `${place}: ${canary.slice(0, 8)}…`);

    const found: string[] = [...leaks("error body", await refused.text())];
    // Everything the gateway wrote has had time to reach each sink.
    await eventually(async () => {
      const rows = await queryAnalytics<{ n: string }>(
        config,
        "SELECT count() AS n FROM audit_log WHERE action = 'key.rotate'",
      );
      expect(Number(rows[0]?.n)).toBe(1);
    }, 20_000);
    found.push(...leaks("logs", logLines.join("")));
    found.push(...leaks("traces", JSON.stringify(receiver.spans)));

    const tables = await queryAnalytics<{ name: string }>(
      config,
      "SELECT name FROM system.tables WHERE database = currentDatabase()",
    );
    for (const { name } of tables)
      found.push(
        ...leaks(
          `clickhouse ${name}`,
          JSON.stringify(await queryAnalytics(config, `SELECT * FROM \`${name}\``)),
        ),
      );

    const kafka = newKafka({ brokers: config.kafka.brokers, logLevel: logLevel.NOTHING });
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    const topics = (await kafkaAdmin.listTopics()).filter((topic) =>
      topic.startsWith(config.kafka.topicPrefix),
    );
    await kafkaAdmin.disconnect();
    const consumer = kafka.consumer({ groupId: `canary-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        seen.push(
          `${topic} ${message.key?.toString("latin1") ?? ""} ${message.value?.toString("latin1") ?? ""} ${JSON.stringify(message.headers)}`,
        );
      },
    });
    await eventually(() => expect(seen.length).toBeGreaterThan(20), 30_000);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await consumer.disconnect();
    found.push(...leaks("kafka", seen.join("\n")));

    const redis = new Redis(config.redis.url);
    const values: string[] = [];
    for (const key of await redis.keys(`${config.redis.keyPrefix}*`)) {
      const type = await redis.type(key);
      if (type === "string") values.push(key, (await redis.get(key)) ?? "");
      else if (type === "hash") values.push(key, JSON.stringify(await redis.hgetall(key)));
      else if (type === "zset")
        values.push(key, JSON.stringify(await redis.zrange(key, 0, -1, "WITHSCORES")));
      else if (type === "list") values.push(key, JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === "set") values.push(key, JSON.stringify(await redis.smembers(key)));
      else if (type === "stream") values.push(key, JSON.stringify(await redis.xrange(key, "-", "+")));
    }
    redis.disconnect();
    found.push(...leaks("redis", values.join("\n")));

    expect(found).toEqual([]);
    // The search looked where the calls went: the prompts are in Kafka, the hashes in the key log.
    expect(seen.join("\n")).toContain("streamed");
    expect(seen.join("\n")).toContain(hashKey(rotatedKey));
    expect(logLines.length).toBeGreaterThan(10);
    expect(receiver.spans.length).toBeGreaterThan(0);
  });
});
