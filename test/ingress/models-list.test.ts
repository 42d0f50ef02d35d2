import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { adminApi } from "../support/admin.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

/** GET /v1/models lists what the calling key may call: its own model list and its team's, patterns included. */
describe("listing models to a key", () => {
  let gateway: RunningGateway;
  const admin = adminApi(() => gateway.url);
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    gateway = await startTestGateway(
      testConfig("in-process", {
        models: [
          { name: "gpt", provider: "mock", model: "mock" },
          { name: "gpt-mini", provider: "mock", model: "mock" },
          { name: "claude", provider: "mock", model: "mock" },
          { name: "mock", provider: "mock" },
        ],
      }),
    );
    expect((await admin("POST", "/admin/teams", { id: "everything" })).status).toBe(201);
    expect((await admin("POST", "/admin/teams", { id: "gpts", models: ["gpt*"] })).status).toBe(201);
    const issue = async (name: string, team: string, models?: string[]) => {
      const created = await admin("POST", "/admin/keys", { team, name, ...(models && { models }) });
      expect(created).toEqual({ status: 201, body: expect.anything() });
      keys[name] = created.body.key;
    };
    await issue("one-model", "everything", ["claude"]);
    await issue("a-pattern", "everything", ["gpt*", "mock"]);
    await issue("team-limited", "gpts");
    await issue("both-limited", "gpts", ["gpt-mini"]);
    await issue("unlimited", "everything");
  });
  afterAll(() => gateway?.close());

  const openAIList = async (key: string) => {
    const ids: string[] = [];
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
    for await (const model of client.models.list()) ids.push(model.id);
    return ids.sort();
  };
  const anthropicList = async (key: string) => {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: key, maxRetries: 0 });
    return (await client.models.list()).data.map((model) => model.id).sort();
  };

  it.each([
    ["one-model", ["claude"]],
    ["a-pattern", ["gpt", "gpt-mini", "mock"]],
    ["team-limited", ["gpt", "gpt-mini"]],
    ["both-limited", ["gpt-mini"]],
    ["unlimited", ["claude", "gpt", "gpt-mini", "mock"]],
  ])("lists to the key %s only %j, in OpenAI's shape and Anthropic's", async (name, expected) => {
    const key = keys[name] as string;
    expect(await openAIList(key)).toEqual(expected);
    expect(await anthropicList(key)).toEqual(expected);
  });

  it("lists every model to a key from the configuration", async () => {
    expect(await openAIList(testKey)).toEqual(["claude", "gpt", "gpt-mini", "mock"]);
  });

  it("says first_id and last_id of what it listed", async () => {
    const response = await fetch(`${gateway.url}/v1/models`, {
      headers: { "x-api-key": keys["one-model"] as string, "anthropic-version": "2023-06-01" },
    });
    expect(await response.json()).toMatchObject({ has_more: false, first_id: "claude", last_id: "claude" });
  });
});
