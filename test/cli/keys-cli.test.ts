import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { runCli } from "../support/cli.ts";
import { masterKey, startTestGateway, testConfig, testKey } from "../support/gateway.ts";

/** `ai-gateway teams …` and `ai-gateway keys …` against a real gateway. */
describe("ai-gateway keys and teams", () => {
  let emulator: OpenAIEmulator;
  let gateway: RunningGateway;
  let env: Record<string, string>;

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: "key" });
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "key" } }],
        pricing: { prices: { p: { "chat-model": { input: 1, output: 2 } } } },
        models: [{ name: "chat", provider: "p", model: "chat-model" }],
      }),
    );
    env = { GATEWAY_URL: gateway.url, GATEWAY_MASTER_KEY: masterKey };
  });
  afterAll(async () => {
    await gateway?.close();
    await emulator?.close();
  });

  const chat = (key: string) =>
    new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 }).chat.completions.create({
      model: "chat",
      messages: [{ role: "user", content: "hello" }],
    });

  it("creates a team and a key, shows it without its secret, and revokes it", async () => {
    const team = await runCli(
      ["teams", "create", "search", "--monthly-usd", "50", "--rpm", "600", "--tag", "cc=7"],
      env,
    );
    expect(team.code).toBe(0);
    expect(JSON.parse(team.stdout)).toMatchObject({
      id: "search",
      budget: { monthlyUsd: 50 },
      rateLimits: { requestsPerMinute: 600 },
      tags: { cc: "7" },
    });

    const created = await runCli(
      [
        "keys",
        "create",
        "--team",
        "search",
        "--name",
        "ranker",
        "--models",
        "chat,gpt-4o*",
        "--daily-usd",
        "2.5",
        "--max-tokens",
        "512",
      ],
      env,
    );
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { key: string; id: string };
    expect(key).toMatchObject({
      name: "ranker",
      models: ["chat", "gpt-4o*"],
      budget: { dailyUsd: 2.5 },
      limits: { maxTokens: 512 },
    });
    await chat(key.key);

    const listed = await runCli(["keys", "list", "--team", "search"], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(key.id);
    expect(listed.stdout).not.toContain(key.key);
    const shown = await runCli(["keys", "show", key.id], env);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      id: key.id,
      spend: { day: { spentUsd: expect.any(Number) } },
    });

    expect((await runCli(["keys", "revoke", key.id], env)).code).toBe(0);
    await expect(chat(key.key)).rejects.toMatchObject({ status: 401 });
  });

  it("says what went wrong, with exit codes a script can read", async () => {
    const noTeam = await runCli(["keys", "create"], env);
    expect(noTeam.code).toBe(2);
    expect(noTeam.stderr).toContain("--team is required");
    const unknown = await runCli(["keys", "show", "nosuchkey"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no key nosuchkey");
    const notAdmin = await runCli(["keys", "list"], {
      GATEWAY_URL: gateway.url,
      GATEWAY_MASTER_KEY: testKey,
    });
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toContain("may not call the admin API");
    const noKey = await runCli(["teams", "list"], { GATEWAY_URL: gateway.url });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("GATEWAY_MASTER_KEY");
  });
});
