import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";

/** Every command `npx ai-gateway --help` names, with a word of its usage its own --help prints. */
const commands = {
  start: "start [--role",
  config: "usage: npx ai-gateway config",
  "reset-key": "usage: npx ai-gateway reset-key",
  "dead-letters": "usage: npx ai-gateway dead-letters <command>",
  batch: "usage: npx ai-gateway batch <command>",
  keys: "usage: npx ai-gateway keys <command>",
  teams: "usage: npx ai-gateway keys <command>",
};

describe("ai-gateway --help", () => {
  it("lists every command, as the user types it", async () => {
    const run = await runCli(["--help"], {});
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(/^usage: npx ai-gateway <command>/);
    for (const command of Object.keys(commands))
      expect(run.stdout).toMatch(new RegExp(`^  ${command}( |$)`, "m"));
    // Hints name what the user types: `npx ai-gateway …`, never a bare `ai-gateway …`.
    expect(run.stdout).not.toMatch(/(?<!npx )ai-gateway (?!<)/);
  });

  it("gives each command a --help of its own", async () => {
    for (const [command, usage] of Object.entries(commands)) {
      const run = await runCli([command, "--help"], {});
      expect(run.code, command).toBe(0);
      expect(run.stdout, command).toContain(usage);
    }
    const subcommand = await runCli(["keys", "list", "--help"], {});
    expect(subcommand.stdout).toContain("--admin-key <key>");
    const batch = await runCli(["batch", "list", "--help"], {});
    expect(batch.stdout).toContain("--key <key>");
    expect(batch.stdout).toContain("GATEWAY_KEY");
  });

  it("names an unknown command and where the list is", async () => {
    const run = await runCli(["frobnicate"], {});
    expect(run).toMatchObject({
      code: 2,
      stdout: "",
      stderr: "error: unknown command: frobnicate\nsee: npx ai-gateway --help\n",
    });
  });
});
