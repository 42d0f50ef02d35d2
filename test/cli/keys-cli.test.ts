import { createServer } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { runCli, runCliOnTerminal } from "../support/cli.ts";
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

  it("on a terminal, lists as an aligned table and one key as a field a line, never a secret", async () => {
    const created = await runCli(["keys", "create", "--team", "search", "--name", "table-test"], env);
    const key = JSON.parse(created.stdout) as { key: string; id: string; prefix: string };

    const listed = await runCliOnTerminal(["keys", "list", "--team", "search"], env, 200);
    expect(listed.code).toBe(0);
    const [header, ...rows] = listed.output.trimEnd().split("\n");
    expect(header).toMatch(/^id +prefix +name +team +user +priority +models +state +expires +created$/);
    const row = rows.find((line) => line.startsWith(key.id)) as string;
    expect(row).toMatch(
      new RegExp(`^${key.id} +${key.prefix} +table-test +search +- +- +all +active +never +\\d{4}-\\S+Z$`),
    );
    // Aligned: each column starts where its header does.
    expect(row.indexOf("table-test")).toBe(header?.indexOf("name"));
    expect(listed.output).not.toContain(key.key);

    // A narrow terminal cuts free text (the name), not the id or the times.
    const narrow = await runCliOnTerminal(["keys", "list", "--team", "search"], env, 90);
    for (const line of narrow.output.trimEnd().split("\n")) expect(line.length).toBeLessThanOrEqual(90);
    expect(narrow.output).toContain(key.id);

    const shown = await runCliOnTerminal(["keys", "show", key.id], env);
    expect(shown.output).toMatch(new RegExp(`^id +${key.id}$`, "m"));
    expect(shown.output).toMatch(/^spend\.day\.spentUsd +0$/m);
    expect(shown.output).not.toContain(key.key);

    const teams = await runCliOnTerminal(["teams", "list"], env);
    expect(teams.output).toMatch(/^search +search +all +\$50\/month +600 +- +active +\d{4}-\S+Z$/m);

    // --json on a terminal: what scripts read, as a pipe gets it.
    const json = await runCliOnTerminal(["teams", "list", "--json"], env);
    expect(JSON.parse(json.output)).toMatchObject({ object: "list", data: [{ id: "search" }] });

    // The one time a secret is printed: when it is made, with a word that it will not be shown again.
    const made = await runCliOnTerminal(["keys", "rotate", key.id], env);
    const secret = /^key +(\S+)$/m.exec(made.output)?.[1];
    expect(secret).toMatch(/^gwk-/);
    expect(made.output).toContain("The key is shown only now");
  });

  it("takes the admin key from --admin-key, and --key with a deprecation line", async () => {
    const flag = await runCli(["teams", "list", "--admin-key", masterKey], { GATEWAY_URL: gateway.url });
    expect(flag).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(flag.stdout).data).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: "search" })]),
    );
    const old = await runCli(["teams", "list", "--key", masterKey], { GATEWAY_URL: gateway.url });
    expect(old.code).toBe(0);
    expect(old.stderr).toBe("warning: --key for keys and teams is deprecated: use --admin-key instead\n");
    // A caller's key in GATEWAY_KEY does not open the admin API.
    const caller = await runCli(["teams", "list"], { GATEWAY_URL: gateway.url, GATEWAY_KEY: masterKey });
    expect(caller.code).toBe(2);
  });

  it("says what went wrong and what to do next, with exit codes a script can read", async () => {
    const noTeam = await runCli(["keys", "create"], env);
    expect(noTeam.code).toBe(2);
    expect(noTeam.stderr).toBe("error: --team is required\nsee: npx ai-gateway keys --help\n");
    const unknown = await runCli(["keys", "show", "nosuchkey"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no key nosuchkey");
    const notAdmin = await runCli(["keys", "list"], {
      GATEWAY_URL: gateway.url,
      GATEWAY_MASTER_KEY: testKey,
    });
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toContain(
      "may not call the admin API; the key in GATEWAY_MASTER_KEY is not this gateway's master key: set it to the gateway's auth.masterKey",
    );
    expect(notAdmin.stderr).not.toContain(testKey);
    const wrong = await runCli(["keys", "list", "--admin-key", "not-a-key-0123456789"], {
      GATEWAY_URL: gateway.url,
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("the key in --admin-key is not this gateway's master key");
    expect(wrong.stderr).not.toContain("not-a-key-0123456789");
    const noKey = await runCli(["teams", "list"], { GATEWAY_URL: gateway.url });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain(
      "error: no admin key: set GATEWAY_MASTER_KEY to the gateway's master key (auth.masterKey of its configuration) or pass --admin-key",
    );
  });

  it("says how to reach a gateway that does not answer", async () => {
    // A port nothing listens on: one the kernel gave and took back.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const run = await runCli(["teams", "list"], {
      GATEWAY_URL: `http://127.0.0.1:${port}`,
      GATEWAY_MASTER_KEY: masterKey,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^error: cannot reach the gateway at http://127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\): start it with \`npm start\`, or set GATEWAY_URL \\(or --url\\) to where it runs\n$`,
      ),
    );
  });
});
