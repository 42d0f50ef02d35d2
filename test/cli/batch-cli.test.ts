import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { runCli } from "../support/cli.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

const chatLine = (customId: string, content: string) =>
  JSON.stringify({
    custom_id: customId,
    method: "POST",
    url: "/v1/chat/completions",
    body: { model: "chat", messages: [{ role: "user", content }] },
  });

/** `ai-gateway batch …` as a user runs it. */
const cli = (args: string[], env: Record<string, string>) => runCli(["batch", ...args], env);

/** The `ai-gateway batch` commands against a real gateway, with an OpenAI emulator as its provider. */
describe("ai-gateway batch", () => {
  let emulator: OpenAIEmulator;
  let gateway: RunningGateway;
  let env: Record<string, string>;
  const directory = mkdtempSync(join(tmpdir(), "batch-cli-"));

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: "key" });
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "key" } }],
        models: [{ name: "chat", provider: "p", model: "chat-model" }],
        batches: { tickMs: 100 },
        // Eight batch lines at a time (share 0.5), so that slow lines keep a batch running a while.
        workers: { concurrency: 16 },
      }),
    );
    env = { GATEWAY_URL: gateway.url, GATEWAY_KEY: testKey };
  });
  afterAll(async () => {
    await gateway?.close();
    await emulator?.close();
  });

  /** A batch input of `count` lines `req-0`… whose answers take `latencyMs` each. */
  const inputFile = (name: string, count: number, latencyMs = 0) => {
    const path = join(directory, name);
    const directive = latencyMs > 0 ? ` [emulator:latency=${latencyMs}]` : "";
    const lines = Array.from({ length: count }, (_, index) =>
      chatLine(`req-${index}`, `q ${index}${directive}`),
    );
    writeFileSync(path, `${lines.join("\n")}\n`);
    return path;
  };

  let finishedId: string;

  it("submits a file, watches it to the end and writes the output file", async () => {
    // Lines slow enough that the batch is seen running before it completes.
    const file = inputFile("input.jsonl", 50, 200);
    const output = join(directory, "out.jsonl");
    const run = await cli(["submit", file, "--watch", "--output", output, "--metadata", "purpose=cli"], env);
    expect(run.stderr).toMatch(/^uploaded .*input\.jsonl as file-\S+ \([\d,]+ bytes\)\n$/);
    expect(run.code).toBe(0);

    const lines = run.stdout.trimEnd().split("\n");
    finishedId = lines[0] as string;
    expect(finishedId).toMatch(/^batch_/);
    // Not a terminal: one plain line per change, no carriage returns, ending at 100%.
    expect(run.stdout).not.toContain("\r");
    const progress = lines.filter((line) => line.startsWith(`${finishedId} [`));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]).toMatch(/\[[#-]{20}\] +\d+% \d+\/50 · .*in_progress$/);
    expect(progress.at(-1)).toMatch(/\[#{20}\] 100% 50\/50 · .*completed$/);
    expect(new Set(progress).size).toBe(progress.length);
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(`^${finishedId} completed in \\d+s · 50 requests: 50 succeeded, 0 failed · output file-`),
      ),
    );
    expect(lines.at(-1)).toBe(`output: 50 lines in ${output}`);

    const results = readFileSync(output, "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(results.map((result) => result.custom_id)).toEqual(
      Array.from({ length: 50 }, (_, index) => `req-${index}`),
    );
    expect(results.every((result) => result.response.status_code === 200)).toBe(true);
  }, 60_000);

  it("shows the status of a finished batch, lists it and prints its results", async () => {
    const status = await cli(["status", finishedId], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${finishedId} [####################] 100% 50/50`);
    expect(status.stdout).toContain(`${finishedId} completed in`);
    expect(status.stdout).toContain(`output: npx ai-gateway batch results ${finishedId}\n`);

    const list = await cli(["list"], env);
    expect(list.code).toBe(0);
    const [header, ...rows] = list.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^id +status +done +failed +created +endpoint$/);
    expect(rows).toContainEqual(
      expect.stringMatching(
        new RegExp(`^${finishedId} +completed +50/50 +0 +\\d{4}-.+Z +/v1/chat/completions$`),
      ),
    );

    const json = await cli(["list", "--json"], env);
    const batches = json.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(batches).toContainEqual(
      expect.objectContaining({
        id: finishedId,
        status: "completed",
        request_counts: { total: 50, completed: 50, failed: 0 },
      }),
    );

    const results = await cli(["results", finishedId], env);
    expect(results.code).toBe(0);
    expect(results.stdout.trimEnd().split("\n")).toHaveLength(50);
    const errors = await cli(["results", finishedId, "--errors"], env);
    expect(errors).toMatchObject({ code: 0, stdout: "", stderr: `${finishedId} has no error file\n` });
  }, 30_000);

  it("reports the gateway's refusal to cancel a finished batch", async () => {
    const run = await cli(["cancel", finishedId], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("error: a batch that is completed cannot be cancelled\n");
  });

  it("cancels a running batch", async () => {
    const file = inputFile("slow.jsonl", 40, 2000);
    const submitted = await cli(["submit", file], env);
    expect(submitted.code).toBe(0);
    const id = submitted.stdout.trim();
    const cancelled = await cli(["cancel", id], env);
    expect(cancelled).toMatchObject({ code: 0, stdout: `${id} cancelling\n` });
    const watched = await cli(["status", id, "--watch"], env);
    // It did not complete: a script waiting on it learns so from the exit code.
    expect(watched.code).toBe(1);
    expect(watched.stdout).toMatch(new RegExp(`${id} cancelled in \\d+s · 40 requests: \\d+ succeeded`));
    // Drawn as cancelled: the lines that ran, and an x for each cancelled one, never a full bar at 100%.
    const last = watched.stdout
      .split("\n")
      .filter((line) => line.startsWith(`${id} [`))
      .at(-1);
    expect(last).toMatch(/^\S+ \[#*x+\] +\d+% \d+\/40 · \d+ cancelled · cancelled$/);
    expect(last).not.toContain("100%");
  }, 30_000);

  it("names the lines of a malformed file, as the gateway does", async () => {
    const path = join(directory, "bad.jsonl");
    writeFileSync(path, `${chatLine("a", "fine")}\n{not json\n${chatLine("a", "again")}\n`);
    const run = await cli(["submit", path, "--watch"], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("error: the file is not a valid batch input: line 2: not valid JSON");
    expect(run.stderr).toContain('line 3: custom_id "a" is used by an earlier line');
  });

  it("says when a batch is created failed, with the reason", async () => {
    const path = join(directory, "unknown-model.jsonl");
    writeFileSync(path, `${chatLine("a", "fine").replace('"chat"', '"no-such-model"')}\n`);
    const run = await cli(["submit", path], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^batch_\S+\nbatch_\S+ failed in 0s · 1 requests: 0 succeeded, 0 failed, 1 not run\n$/,
    );
    expect(run.stderr).toContain("error: line 1: the model no-such-model does not exist");
  });

  it("refuses to run without a key, says which key was refused, and never prints it", async () => {
    const missing = await cli(["list"], { GATEWAY_URL: gateway.url });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      "error: no gateway key: set GATEWAY_KEY to a key of the gateway (the one its first start printed, or one from `npx ai-gateway keys create`) or pass --key\nsee: npx ai-gateway batch --help\n",
    );

    const wrong = await cli(["list", "--key", "not-a-key-0123456789"], { GATEWAY_URL: gateway.url });
    expect(wrong).toMatchObject({
      code: 1,
      stderr:
        "error: the gateway key is not valid; the gateway refused the key in --key: set it to a live key of this gateway (lost the first-start key? `npx ai-gateway reset-key`)\n",
    });
    expect(wrong.stdout + wrong.stderr).not.toContain("not-a-key");
    const wrongEnv = await cli(["list"], { GATEWAY_URL: gateway.url, GATEWAY_KEY: "not-a-key-0123456789" });
    expect(wrongEnv.stderr).toContain("the gateway refused the key in GATEWAY_KEY");
  });

  it("still takes the old variables, each with one line naming GATEWAY_KEY", async () => {
    for (const old of ["GATEWAY_API_KEY", "OPENAI_API_KEY"]) {
      // A base URL ending in /v1 (an SDK's) works as well.
      const run = await cli(["list"], { GATEWAY_URL: `${gateway.url}/v1`, [old]: testKey });
      expect(run.code, old).toBe(0);
      expect(run.stderr, old).toBe(`warning: ${old} is deprecated: use GATEWAY_KEY instead\n`);
      expect(run.stdout + run.stderr).not.toContain(testKey);
    }
    // The new name wins, without a warning.
    const both = await cli(["list"], {
      GATEWAY_URL: gateway.url,
      GATEWAY_KEY: testKey,
      GATEWAY_API_KEY: "old",
    });
    expect(both).toMatchObject({ code: 0, stderr: "" });
  });

  it("exits 2 on a usage mistake", async () => {
    for (const args of [
      [],
      ["submit"],
      ["status", "a", "b"],
      ["submit", "x.jsonl", "--endpoint", "/v1/x"],
      ["frobnicate"],
    ]) {
      const run = await cli(args, env);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr, args.join(" ")).toMatch(/^error: .+\nsee: npx ai-gateway batch --help\n$/);
    }
  });
});
