import { type ParseArgsConfig, parseArgs } from "node:util";
import { type Connection, GatewayRequestError } from "./http.ts";

/** A mistake in the command line: reported with a pointer to the usage, exit code 2. */
export class UsageError extends Error {}

/** A failure of the command itself (a file not readable, a batch not done): exit code 1. */
export class Failure extends Error {}

/** What the user types to run the CLI, as hints and usages show it. */
export const cli = "npx ai-gateway";

/** Where the CLI finds the gateway when neither `--url` nor GATEWAY_URL says. */
export const defaultGatewayUrl = "http://127.0.0.1:8080";

/** The options every command of a group takes: where the gateway is, which key to send, and the output. */
export const connection = {
  url: { type: "string" },
  key: { type: "string" },
  "admin-key": { type: "string" },
  json: { type: "boolean" },
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
      process.stderr.write(`error: ${(error as Error).message}\nsee: ${cli} ${group} --help\n`);
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

/**
 * Old names still read, each with the one it gave way to: a deprecation line on stderr says so,
 * once per run. (OPENAI_API_KEY is often a provider's key — .env.example holds it — and must not
 * be sent to the gateway by accident.)
 */
const deprecatedKeyVariables = { GATEWAY_API_KEY: "GATEWAY_KEY", OPENAI_API_KEY: "GATEWAY_KEY" } as const;

function deprecated(old: string, replacement: string): void {
  process.stderr.write(`warning: ${old} is deprecated: use ${replacement} instead\n`);
}

const gatewayUrl = (values: { url?: string }) =>
  values.url ?? (process.env.GATEWAY_URL || undefined) ?? defaultGatewayUrl;

/** A caller's connection (batch commands): `--key`, else GATEWAY_KEY, else a deprecated variable. */
export function callerConnection(values: { url?: string; key?: string; "admin-key"?: string }): Connection {
  if (values["admin-key"] !== undefined)
    throw new UsageError(
      "--admin-key is for keys and teams; batch commands take a caller key: --key or GATEWAY_KEY",
    );
  const env = process.env;
  let source = values.key === undefined ? "GATEWAY_KEY" : "--key";
  let key = values.key ?? (env.GATEWAY_KEY || undefined);
  for (const [old, replacement] of Object.entries(deprecatedKeyVariables)) {
    if (key !== undefined) break;
    key = env[old] || undefined;
    if (key !== undefined) {
      deprecated(old, replacement);
      source = old;
    }
  }
  if (key === undefined)
    throw new UsageError(
      `no gateway key: set GATEWAY_KEY to a key of the gateway (the one its first start printed, or one from \`${cli} keys create\`) or pass --key`,
    );
  return {
    url: gatewayUrl(values),
    key,
    refusedKeyHint: `the gateway refused the key in ${source}: set it to a live key of this gateway (lost the first-start key? \`${cli} reset-key\`)`,
  };
}

/** The admin API's connection (keys, teams): `--admin-key`, else GATEWAY_MASTER_KEY; nothing else. */
export function adminConnection(values: { url?: string; key?: string; "admin-key"?: string }): Connection {
  let source = values["admin-key"] === undefined ? "GATEWAY_MASTER_KEY" : "--admin-key";
  let key = values["admin-key"];
  if (key === undefined && values.key !== undefined) {
    deprecated("--key for keys and teams", "--admin-key");
    source = "--key";
    key = values.key;
  }
  key ??= process.env.GATEWAY_MASTER_KEY || undefined;
  if (key === undefined)
    throw new UsageError(
      `no admin key: set GATEWAY_MASTER_KEY to the gateway's master key (auth.masterKey of its configuration) or pass --admin-key; a gateway with no keys configured takes the key its first start printed (lost: \`${cli} reset-key\`)`,
    );
  return {
    url: gatewayUrl(values),
    key,
    refusedKeyHint: `the key in ${source} is not this gateway's master key: set it to the gateway's auth.masterKey (\`${cli} config\` on the gateway's machine shows where that comes from)`,
  };
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
