import type { ParseArgsConfig } from "node:util";
import {
  adminConnection,
  cli,
  defaultGatewayUrl,
  parseCommand,
  parsePairs,
  runGroup,
  UsageError,
} from "../cli-kit.ts";
import { gatewayHttp } from "../http.ts";
import { fieldLines, printJson, printTable, terminal } from "../output.ts";
import { type AdminKey, type AdminTeam, keyRows, teamRows } from "./rows.ts";

export const keysUsage = `usage: ${cli} keys <command> [options]
       ${cli} teams <command> [options]

Virtual keys and teams, through the admin API, with the gateway's master key (GATEWAY_MASTER_KEY
or --admin-key; a caller's GATEWAY_KEY does not open the admin API).

keys:
  create --team <team> [settings]   issue a key; the key is printed once, never again
  list [--team <team>]              keys (never their secrets), oldest first
  show <id>                         one key, with what it has spent
  update <id> [settings]            change a key's settings
  rotate <id> [--grace <seconds>]   a new key for the same id; the old one works --grace longer
  revoke <id>                       stop a key for good

teams:
  create <id> [settings]   a team (its keys share its budget, limits and models)
  list                     teams
  show <id>                one team, with what it has spent
  update <id> [settings] [--disable | --enable]
  delete <id>              a team without live keys

settings (keys and teams unless said):
  --name <name>          --user <user> (keys)      --priority interactive|default|batch (keys)
  --models a,b*          models it may call (a trailing * matches a prefix); "all" clears
  --apis chat,messages,responses,embeddings,batches (keys)
  --tag k=v ...          cost-attribution tags     --meta k=v ...   metadata
  --daily-usd N  --monthly-usd N  --total-usd N  --soft-limit PERCENT   budget
  --rpm N  --tpm N       requests and tokens per minute
  --max-tokens N  --max-n N  --max-streams N   consumption limits (keys)
  --expires <ISO time>   when the key stops working (keys); "never" clears

options:
  --url <url>         the gateway (default: GATEWAY_URL, else ${defaultGatewayUrl})
  --admin-key <key>   the gateway's master key (default: GATEWAY_MASTER_KEY; the environment keeps
                      it out of your shell history and process list)
  --json              JSON, as the admin API answers (also what a pipe or file gets)

On a terminal: lists as tables, one key or team as a field a line. A key's secret is printed once,
by create and rotate, never again.
`;

const settings = {
  name: { type: "string" },
  user: { type: "string" },
  priority: { type: "string" },
  models: { type: "string" },
  apis: { type: "string" },
  tag: { type: "string", multiple: true },
  meta: { type: "string", multiple: true },
  "daily-usd": { type: "string" },
  "monthly-usd": { type: "string" },
  "total-usd": { type: "string" },
  "soft-limit": { type: "string" },
  rpm: { type: "string" },
  tpm: { type: "string" },
  "max-tokens": { type: "string" },
  "max-n": { type: "string" },
  "max-streams": { type: "string" },
  expires: { type: "string" },
  team: { type: "string" },
  disable: { type: "boolean" },
  enable: { type: "boolean" },
  grace: { type: "string" },
} satisfies ParseArgsConfig["options"];

type Values = {
  [Name in keyof typeof settings]?: (typeof settings)[Name] extends { multiple: true }
    ? string[]
    : (typeof settings)[Name]["type"] extends "boolean"
      ? boolean
      : string;
} & { url?: string; key?: string; "admin-key"?: string; json?: boolean };

export function keysCommand(argv: string[]): Promise<number> {
  return runGroup(
    "keys",
    keysUsage,
    {
      create: (rest) =>
        run(rest, [], ({ values }, admin) =>
          admin("POST", "/admin/keys", { team: required(values.team, "--team"), ...body(values) }),
        ),
      list: (rest) =>
        run(
          rest,
          [],
          ({ values }, admin) =>
            admin("GET", `/admin/keys${values.team ? `?team=${encodeURIComponent(values.team)}` : ""}`),
          (answer) => keyRows((answer as { data: AdminKey[] }).data),
        ),
      show: (rest) => run(rest, ["id"], ({ id }, admin) => admin("GET", `/admin/keys/${id}`)),
      update: (rest) =>
        run(rest, ["id"], ({ id, values }, admin) => admin("PATCH", `/admin/keys/${id}`, body(values))),
      rotate: (rest) =>
        run(rest, ["id"], ({ id, values }, admin) =>
          admin(
            "POST",
            `/admin/keys/${id}/rotate`,
            values.grace === undefined ? {} : { gracePeriodSeconds: whole(values.grace, "--grace") },
          ),
        ),
      revoke: (rest) => run(rest, ["id"], ({ id }, admin) => admin("POST", `/admin/keys/${id}/revoke`)),
    },
    argv,
  );
}

export function teamsCommand(argv: string[]): Promise<number> {
  return runGroup(
    "teams",
    keysUsage,
    {
      create: (rest) =>
        run(rest, ["id"], ({ id, values }, admin) => admin("POST", "/admin/teams", { id, ...body(values) })),
      list: (rest) =>
        run(
          rest,
          [],
          (_, admin) => admin("GET", "/admin/teams"),
          (answer) => teamRows((answer as { data: AdminTeam[] }).data),
        ),
      show: (rest) => run(rest, ["id"], ({ id }, admin) => admin("GET", `/admin/teams/${id}`)),
      update: (rest) =>
        run(rest, ["id"], ({ id, values }, admin) =>
          admin("PATCH", `/admin/teams/${id}`, {
            ...body(values),
            ...(values.disable && { disabled: true }),
            ...(values.enable && { disabled: false }),
          }),
        ),
      delete: (rest) => run(rest, ["id"], ({ id }, admin) => admin("DELETE", `/admin/teams/${id}`)),
    },
    argv,
  );
}

type Admin = (method: string, path: string, body?: object) => Promise<unknown>;

/**
 * Parses one command and calls the admin API. The answer goes out as JSON with --json or when
 * stdout is not a terminal (what scripts and \`jq\` read); on a terminal, a list as the table
 * `rows` makes of it, anything else as a field a line.
 */
async function run(
  argv: string[],
  ids: string[],
  act: (parsed: { id: string; values: Values }, admin: Admin) => Promise<unknown>,
  rows?: (answer: unknown) => string[][],
): Promise<number> {
  const parsed = parseCommand(argv, settings, ids, keysUsage);
  if (!parsed) return 0;
  const values = parsed.values as Values;
  const { json } = gatewayHttp(adminConnection(values));
  const id = encodeURIComponent(parsed.positionals[0] ?? "");
  const answer = await act({ id, values }, (method, path, payload) => json(method, path, payload));
  if (values.json || !terminal().tty) printJson(answer);
  else if (rows) printTable(rows(answer));
  else process.stdout.write(fieldLines(answer as Record<string, unknown>));
  // A new secret (create, rotate) is in the answer this once: the gateway keeps only its hash.
  if (typeof (answer as { key?: unknown }).key === "string")
    process.stderr.write(
      "The key is shown only now (the gateway keeps its hash): store it where it is needed.\n",
    );
  return 0;
}

/** The settings given on the command line as an admin API body (what is not given is left unchanged). */
function body(values: Values): Record<string, unknown> {
  const budget = compact({
    dailyUsd: usd(values["daily-usd"], "--daily-usd"),
    monthlyUsd: usd(values["monthly-usd"], "--monthly-usd"),
    totalUsd: usd(values["total-usd"], "--total-usd"),
    softLimitPercent: whole(values["soft-limit"], "--soft-limit"),
  });
  const rateLimits = compact({
    requestsPerMinute: whole(values.rpm, "--rpm"),
    tokensPerMinute: whole(values.tpm, "--tpm"),
  });
  const limits = compact({
    maxTokens: whole(values["max-tokens"], "--max-tokens"),
    maxN: whole(values["max-n"], "--max-n"),
    maxConcurrentStreams: whole(values["max-streams"], "--max-streams"),
  });
  return (
    compact({
      name: values.name,
      user: values.user,
      priority: values.priority,
      models: values.models === undefined ? undefined : values.models === "all" ? null : list(values.models),
      apis: values.apis === undefined ? undefined : list(values.apis),
      tags: parsePairs("tag", values.tag ?? []),
      metadata: parsePairs("meta", values.meta ?? []),
      budget,
      rateLimits,
      limits,
      expiresAt: values.expires === "never" ? null : values.expires,
    }) ?? {}
  );
}

/** An object without its undefined fields; undefined when nothing is left. */
function compact<T extends Record<string, unknown>>(object: T): Partial<T> | undefined {
  const kept = Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
  return Object.keys(kept).length === 0 ? undefined : (kept as Partial<T>);
}

const list = (value: string) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

function required(value: string | undefined, option: string): string {
  if (value === undefined) throw new UsageError(`${option} is required`);
  return value;
}

function usd(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const amount = Number(value);
  if (!(amount > 0))
    throw new UsageError(`${option} takes an amount of USD above 0, got ${JSON.stringify(value)}`);
  return amount;
}

function whole(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 0)
    throw new UsageError(`${option} takes a whole number, got ${JSON.stringify(value)}`);
  return count;
}
