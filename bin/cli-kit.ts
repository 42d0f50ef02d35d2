import { type ParseArgsConfig, parseArgs } from "node:util";
import { GatewayRequestError } from "./http.ts";

/** A mistake in the command line: reported with a pointer to the usage, exit code 2. */
export class UsageError extends Error {}

/** A failure of the command itself (a file not readable, a batch not done): exit code 1. */
export class Failure extends Error {}

/** The options every command of a group takes: where the gateway is and which key to send. */
export const connection = {
  url: { type: "string" },
  key: { type: "string" },
  help: { type: "boolean" },
} satisfies ParseArgsConfig["options"];

/**
 * Runs one command of a group (`ai-gateway <group> <command> …`) and answers its exit code:
 * usage mistakes 2 with a pointer to `--help`, failures and gateway errors 1.
 */
export async function runGroup(
  group: string,
  usage: string,
  commands: Record<string, (argv: string[]) => Promise<number>>,
  argv: string[],
): Promise<number> {
  // A reader that stops early (`… | head`) closes the pipe: it has what it wanted.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(0);
  });
  const [command, ...rest] = argv;
  try {
    if (command === "--help" || command === "-h") {
      process.stdout.write(usage);
      return 0;
    }
    const run = command === undefined ? undefined : commands[command];
    if (!run || !Object.hasOwn(commands, command as string))
      throw new UsageError(command === undefined ? `which ${group} command?` : `unknown command: ${command}`);
    return await run(rest);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      process.stderr.write(`error: ${(error as Error).message}\nsee: ai-gateway ${group} --help\n`);
      return 2;
    }
    if (error instanceof GatewayRequestError || error instanceof Failure) {
      process.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function isParseArgsError(error: unknown): boolean {
  return String((error as { code?: unknown })?.code).startsWith("ERR_PARSE_ARGS_");
}

/**
 * The options of one command with the connection ones; exactly `ids` positionals. `--help` prints
 * the usage and answers undefined.
 */
export function parseCommand<Options extends NonNullable<ParseArgsConfig["options"]>>(
  argv: string[],
  options: Options,
  ids: string[],
  usage: string,
) {
  type Parsed = ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof connection & Options; allowPositionals: true }>
  >;
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...connection, ...options },
    allowPositionals: true,
  }) as Parsed;
  if ((values as { help?: boolean }).help) {
    process.stdout.write(usage);
    return undefined;
  }
  if (positionals.length !== ids.length)
    throw new UsageError(
      ids.length === 0
        ? `unexpected argument: ${positionals[0]}`
        : `expected ${ids.map((id) => `<${id}>`).join(" ")}, got ${positionals.length} argument(s)`,
    );
  return { values, positionals };
}

/** The gateway and key of `--url`/`--key`, else of the first of `keyVariables` set in the environment. */
export function connectionOf(
  values: { url?: string; key?: string },
  keyVariables: string[],
): { url: string; key: string } {
  const env = process.env;
  const key = values.key ?? keyVariables.map((name) => env[name]).find(Boolean);
  if (!key)
    throw new UsageError(
      `no gateway key: pass --key or set ${keyVariables.join(" (or ")}${")".repeat(keyVariables.length - 1)}`,
    );
  return { url: values.url ?? env.GATEWAY_URL ?? "http://127.0.0.1:8080", key };
}

/** `key=value` pairs of a repeated option as a map; none given: undefined. */
export function parsePairs(option: string, pairs: string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const map: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at < 1) throw new UsageError(`--${option} takes key=value, got ${JSON.stringify(pair)}`);
    map[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return map;
}

/** Rows as aligned columns, two spaces apart (the first row is the header). */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join("  ");
  return `${rows.map(line).join("\n")}\n`;
}
