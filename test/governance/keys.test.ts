import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import { hashKey } from "../../governance/keys/keyring.ts";
import { type AnthropicEmulator, startAnthropicEmulator } from "../emulators/anthropic.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { adminApi } from "../support/admin.ts";
import { eventually } from "../support/eventually.ts";
import {
  busKinds,
  masterKey,
  queryAnalytics,
  startTestGateway,
  testConfig,
  testKey,
} from "../support/gateway.ts";

const masterKeyId = () => hashKey(masterKey).slice(0, 12);

/** Virtual keys and teams through the admin API, used by the official clients. */
describe.each(busKinds)("virtual keys on the %s bus", (bus) => {
  let openaiEmulator: OpenAIEmulator;
  let anthropicEmulator: AnthropicEmulator;
  let gateway: RunningGateway;
  let config: GatewayConfig;

  const admin = adminApi(() => gateway.url);
  const chat = (key: string, model = "gpt", headers: Record<string, string> = {}) =>
    new OpenAI({
      baseURL: `${gateway.url}/v1`,
      apiKey: key,
      maxRetries: 0,
      defaultHeaders: headers,
    }).chat.completions.create({
      model,
      messages: [{ role: "user", content: "hello" }],
    });

  beforeAll(async () => {
    openaiEmulator = await startOpenAIEmulator({ apiKey: "key" });
    anthropicEmulator = await startAnthropicEmulator({ apiKey: "key" });
    config = testConfig(bus, {
      providers: [
        { name: "o", type: "openai", options: { baseUrl: openaiEmulator.url, apiKey: "key" } },
        { name: "a", type: "anthropic", options: { baseUrl: anthropicEmulator.url, apiKey: "key" } },
      ],
      models: [
        { name: "gpt", provider: "o", model: "gpt-model" },
        { name: "gpt-mini", provider: "o", model: "gpt-mini-model" },
        { name: "claude", provider: "a", model: "claude-model" },
      ],
    });
    gateway = await startTestGateway(config);
    expect(
      (await admin("POST", "/admin/teams", { id: "search", models: ["gpt*"], tags: { cost_center: "cc-7" } }))
        .status,
    ).toBe(201);
  });
  afterAll(async () => {
    await gateway?.close();
    await openaiEmulator?.close();
    await anthropicEmulator?.close();
  });

  it("issues a key once, keeps only its hash, and serves it with its team's tags", async () => {
    const created = await admin("POST", "/admin/keys", {
      team: "search",
      name: "ranker",
      user: "ana",
      tags: { app: "ranker" },
    });
    expect(created).toEqual({ status: 201, body: expect.anything() });
    expect(created.body.key).toMatch(/^gwk-[A-Za-z0-9_-]{43}$/);
    expect(created.body).not.toHaveProperty("hash");
    const shown = await admin("GET", `/admin/keys/${created.body.id}`);
    expect(JSON.stringify(shown.body)).not.toContain(created.body.key);
    expect(shown.body).not.toHaveProperty("hash");
    expect(shown.body).toMatchObject({
      id: created.body.id,
      team: "search",
      prefix: created.body.key.slice(0, 10),
    });
    const listed = await admin("GET", "/admin/keys?team=search");
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);

    const answer = await chat(created.body.key);
    expect(answer.choices[0]?.message.content).toBeTruthy();
  });

  it("refuses a model outside the key's list, in each API's error shape", async () => {
    const { body } = await admin("POST", "/admin/keys", { team: "search", models: ["gpt-mini"] });
    await expect(chat(body.key, "gpt")).rejects.toMatchObject({ status: 403, code: "permission_denied" });
    await expect(chat(body.key, "gpt-mini")).resolves.toBeTruthy();
    // The team allows gpt* only: claude is refused even to a key that names no models.
    const open = await admin("POST", "/admin/keys", { team: "search" });
    const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: open.body.key, maxRetries: 0 });
    await expect(
      anthropic.messages.create({
        model: "claude",
        max_tokens: 16,
        messages: [{ role: "user", content: "hi" }],
      }),
    ).rejects.toMatchObject({ status: 403, error: { type: "error", error: { type: "permission_error" } } });
  });

  it("refuses a key that asks for more than its team has", async () => {
    const wider = await admin("POST", "/admin/keys", { team: "search", models: ["claude"] });
    expect(wider.status).toBe(400);
    expect(JSON.stringify(wider.body)).toContain("team search");
    const noTeam = await admin("POST", "/admin/keys", { team: "nobody" });
    expect(noTeam.status).toBe(404);
    expect(noTeam.body).toMatchObject({
      error: {
        message: "no team nobody: create it first (POST /admin/teams, or `ai-gateway teams create nobody`)",
        param: "team",
      },
    });
  });

  it("stops a revoked key at once, and an expired one", async () => {
    const { body } = await admin("POST", "/admin/keys", { team: "search" });
    await chat(body.key);
    expect((await admin("POST", `/admin/keys/${body.id}/revoke`)).status).toBe(200);
    await expect(chat(body.key)).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining("revoked"),
    });
    expect((await admin("POST", `/admin/keys/${body.id}/revoke`)).status).toBe(409);

    const soon = new Date(Date.now() + 1500).toISOString();
    const expiring = await admin("POST", "/admin/keys", { team: "search", expiresAt: soon });
    await chat(expiring.body.key);
    await eventually(
      () =>
        expect(chat(expiring.body.key)).rejects.toMatchObject({
          status: 401,
          message: expect.stringContaining("expired"),
        }),
      5000,
    );
    expect(
      (await admin("POST", "/admin/keys", { team: "search", expiresAt: "2001-01-01T00:00:00Z" })).status,
    ).toBe(400);
  });

  it("rotates a key: the new one works, the old one only during its grace period", async () => {
    const { body } = await admin("POST", "/admin/keys", { team: "search" });
    const rotated = await admin("POST", `/admin/keys/${body.id}/rotate`, { gracePeriodSeconds: 2 });
    expect(rotated.body.id).toBe(body.id);
    expect(rotated.body.key).not.toBe(body.key);
    await chat(rotated.body.key);
    await chat(body.key);
    await eventually(() => expect(chat(body.key)).rejects.toMatchObject({ status: 401 }), 6000);
    const again = await admin("POST", `/admin/keys/${body.id}/rotate`, {});
    await expect(chat(rotated.body.key)).rejects.toMatchObject({ status: 401 });
    await chat(again.body.key);
  });

  it("refuses every key of a disabled team, and serves them again once enabled", async () => {
    await admin("POST", "/admin/teams", { id: "labs" });
    const { body } = await admin("POST", "/admin/keys", { team: "labs" });
    await admin("PATCH", "/admin/teams/labs", { disabled: true });
    await expect(chat(body.key)).rejects.toMatchObject({ status: 403 });
    expect((await admin("DELETE", "/admin/teams/labs")).status).toBe(409);
    await admin("PATCH", "/admin/teams/labs", { disabled: false });
    await chat(body.key);
    await admin("POST", `/admin/keys/${body.id}/revoke`);
    expect((await admin("DELETE", "/admin/teams/labs")).status).toBe(200);
    expect((await admin("GET", "/admin/teams/labs")).status).toBe(404);
  });

  it("keeps a key from widening its own rights", async () => {
    const { body } = await admin("POST", "/admin/keys", {
      team: "search",
      priority: "batch",
      models: ["gpt"],
    });
    // Not an admin: it cannot change itself, mint keys, or read others.
    expect((await admin("PATCH", `/admin/keys/${body.id}`, { models: null }, body.key)).status).toBe(403);
    expect((await admin("POST", "/admin/keys", { team: "search" }, body.key)).status).toBe(403);
    expect((await admin("GET", "/admin/keys", undefined, body.key)).status).toBe(403);
    // Nor may it raise its priority with the header; lowering is fine.
    await expect(chat(body.key, "gpt", { "x-gateway-priority": "interactive" })).rejects.toMatchObject({
      status: 403,
    });
    await chat(body.key, "gpt", { "x-gateway-priority": "batch" });
    // Nor override its cost-attribution tags with x-gateway-tags.
    expect((await admin("PATCH", `/admin/keys/${body.id}`, { tags: { app: "one" } })).status).toBe(200);
    await chat(body.key, "gpt", { "x-gateway-tags": "app=two,run=7" });
    await eventually(async () => {
      const rows = await queryAnalytics<{ app: string; run: string; team: string }>(
        config,
        "SELECT tags['app'] AS app, tags['run'] AS run, team FROM requests FINAL WHERE key_id = {key:String} AND stage = 'finished' AND tags['run'] = '7'",
        { key: body.id },
      );
      expect(rows).toEqual([{ app: "one", run: "7", team: "search" }]);
    }, 20_000);
  });

  it("records every admin request, refused ones too, with who, what and from where", async () => {
    const { body } = await admin("POST", "/admin/keys", { team: "search", name: "audited" });
    await admin("POST", `/admin/keys/${body.id}/revoke`);
    const other = await admin("POST", "/admin/keys", { team: "search" });
    expect((await admin("POST", "/admin/teams", { id: "sneaky" }, other.body.key)).status).toBe(403);
    await eventually(async () => {
      const rows = await queryAnalytics<Record<string, string>>(
        config,
        `SELECT actor_kind, actor_key_id, action, target, outcome, source_ip
         FROM audit_log FINAL WHERE target = {id:String} OR actor_key_id = {other:String} ORDER BY at`,
        { id: body.id, other: other.body.id },
      );
      const master = masterKeyId();
      expect(rows).toEqual([
        {
          actor_kind: "master",
          actor_key_id: master,
          action: "key.create",
          target: body.id,
          outcome: "allowed",
          source_ip: "127.0.0.1",
        },
        {
          actor_kind: "master",
          actor_key_id: master,
          action: "key.revoke",
          target: body.id,
          outcome: "allowed",
          source_ip: "127.0.0.1",
        },
        {
          actor_kind: "key",
          actor_key_id: other.body.id,
          action: "POST /admin/teams",
          target: "",
          outcome: "denied",
          source_ip: "127.0.0.1",
        },
      ]);
    }, 20_000);
  });

  it("keeps the admin API closed to keys from the configuration", async () => {
    expect((await admin("GET", "/admin/keys", undefined, testKey)).status).toBe(403);
    expect((await admin("GET", "/admin/keys", undefined, "not-a-key-at-all")).status).toBe(401);
  });
});
