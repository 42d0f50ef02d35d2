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
    env = { GATEWAY_URL: gateway.url, GATEWAY_API_KEY: testKey };
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
    expect(status.stdout).toContain(`output: ai-gateway batch results ${finishedId}\n`);

    const list = await cli(["list"], env);
    expect(list.code).toBe(0);
    const [header, ...rows] = list.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^id +status +done +failed +created +endpoint$/);
    expect(rows).toContainEqual(
      expect.stringMatching(
        new RegExp(`^${finishedId} +completed +50/50 +0 +\\d{4}-.+Z +/v1/chat/completions$`),
      ),
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

  it("refuses to run without a key, and never prints the key it has", async () => {
    const missing = await cli(["list"], { GATEWAY_URL: gateway.url });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no gateway key: pass --key or set GATEWAY_API_KEY (or OPENAI_API_KEY)");

    const wrong = await cli(["list", "--key", "not-a-key-0123456789"], { GATEWAY_URL: gateway.url });
    expect(wrong).toMatchObject({ code: 1, stderr: "error: the gateway key is not valid\n" });
    expect(wrong.stdout + wrong.stderr).not.toContain("not-a-key");

    // OPENAI_API_KEY is the fallback, and a base URL ending in /v1 (an SDK's) works as well.
    const fallback = await cli(["list"], { GATEWAY_URL: `${gateway.url}/v1`, OPENAI_API_KEY: testKey });
    expect(fallback.code).toBe(0);
    expect(fallback.stdout + fallback.stderr).not.toContain(testKey);
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
      expect(run.stderr, args.join(" ")).toMatch(/^error: .+\nsee: ai-gateway batch --help\n$/);
    }
  });
});
