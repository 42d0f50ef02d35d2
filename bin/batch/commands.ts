import { readFile, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import type { ParseArgsConfig } from "node:util";
import { isFinal } from "../../batches/store.ts";
import {
  callerConnection,
  cli,
  defaultGatewayUrl,
  Failure,
  parseCommand,
  parsePairs,
  runGroup,
  UsageError,
} from "../cli-kit.ts";
import { GatewayRequestError } from "../http.ts";
import { isoTime, printTable, terminal } from "../output.ts";
import { type Batch, createGatewayClient, type GatewayClient } from "./client.ts";
import { doneOf, progressLine, progressUpdate, summaryLine } from "./progress.ts";

export const batchUsage = `usage: ${cli} batch <command> [options]

commands:
  submit <file.jsonl> [--endpoint /v1/chat/completions|/v1/embeddings] [--window 24h]
         [--metadata key=value ...] [--watch] [--output out.jsonl] [--errors errors.jsonl]
           upload a JSONL batch input and create a batch; prints its id. The endpoint defaults to
           the first line's url. --watch follows it to the end, then writes its output and error
           files to --output and --errors (exit 1 unless it completed).
  status <id> [--watch]   how far a batch is; --watch follows it to the end
  cancel <id>             stop a batch: lines not started are not run
  list [--limit 20] [--json]
                          your batches, newest first: a table (fitted to a terminal's width);
                          --json: the batch objects, one JSON object a line
  results <id> [--errors] the output (or error) file of a finished batch, as JSONL on stdout

options:
  --url <url>   the gateway (default: GATEWAY_URL, else ${defaultGatewayUrl})
  --key <key>   a key of the gateway, a caller's (default: GATEWAY_KEY; GATEWAY_API_KEY and
                OPENAI_API_KEY still work, with a warning); the environment keeps it out of your
                shell history and process list
`;

const endpoints = ["/v1/chat/completions", "/v1/embeddings"];
const pollMs = 1000;

/** `ai-gateway batch …`: returns the exit code. */
export function batchCommand(argv: string[]): Promise<number> {
  return runGroup("batch", batchUsage, { submit, status, cancel, list, results }, argv);
}

const parse = <Options extends NonNullable<ParseArgsConfig["options"]>>(
  argv: string[],
  options: Options,
  ids: string[],
) => parseCommand(argv, options, ids, batchUsage);

/** The client for `--url`/`--key` or the environment. */
function connect(values: { url?: string; key?: string; "admin-key"?: string }): GatewayClient {
  return createGatewayClient(callerConnection(values));
}

async function submit(argv: string[]): Promise<number> {
  const parsed = parse(
    argv,
    {
      endpoint: { type: "string" },
      window: { type: "string", default: "24h" },
      metadata: { type: "string", multiple: true },
      watch: { type: "boolean" },
      output: { type: "string" },
      errors: { type: "string" },
    },
    ["file.jsonl"],
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const [path] = positionals as [string];
  if (values.endpoint !== undefined && !endpoints.includes(values.endpoint))
    throw new UsageError(`--endpoint must be one of ${endpoints.join(", ")}`);
  if (!values.watch && (values.output !== undefined || values.errors !== undefined))
    throw new UsageError("--output and --errors need --watch (use batch results once the batch is done)");
  const metadata = parsePairs("metadata", values.metadata ?? []);
  const client = connect(values);
  const content = await readFile(path).catch((error: Error) => {
    throw new Failure(`cannot read ${path}: ${error.message}`);
  });

  const file = await client.uploadBatchInput(basename(path), content);
  process.stderr.write(`uploaded ${path} as ${file.id} (${file.bytes.toLocaleString("en-US")} bytes)\n`);
  const created = await client.createBatch({
    input_file_id: file.id,
    endpoint: values.endpoint ?? endpointOf(content),
    completion_window: values.window,
    ...(metadata && { metadata }),
  });
  process.stdout.write(`${created.id}\n`);
  // A batch whose lines the gateway cannot run is created failed: say so even without --watch.
  if (!values.watch && !isFinal(created.status)) return 0;
  const batch = isFinal(created.status) ? created : await watch(client, created.id);
  return finish(client, batch, { output: values.output, errors: values.errors });
}

/**
 * The endpoint the first request calls. A first line that is not JSON, or calls something else,
 * gives the default: the gateway then refuses the file or the batch naming the line, which says
 * more than a guess here could.
 */
function endpointOf(content: Buffer): string {
  const first = content
    .toString("utf8")
    .split("\n")
    .find((line) => line.trim() !== "");
  try {
    const url = (JSON.parse(first ?? "") as { url?: unknown }).url;
    if (typeof url === "string" && endpoints.includes(url)) return url;
  } catch {
    // Left to the gateway's check of the upload.
  }
  return "/v1/chat/completions";
}

/** Polls a batch, drawing its progress, until it ends; answers it as it ended. */
async function watch(client: GatewayClient, id: string): Promise<Batch> {
  const display = terminal();
  // Ctrl-C stops the watching, not the batch: say so, rather than leave it looking cancelled.
  const interrupted = () => {
    process.stderr.write(
      `\nstopped watching; ${id} goes on. Watch it: ${cli} batch status ${id} --watch; stop it: ${cli} batch cancel ${id}\n`,
    );
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  try {
    let previous: Batch | undefined;
    for (;;) {
      const batch = await client.getBatch(id).catch((error: unknown) => {
        if (!(error instanceof GatewayRequestError)) throw error;
        if (display.tty && previous) process.stdout.write("\n");
        throw new Failure(`${error.message} (${id} goes on: ${cli} batch status ${id} --watch)`);
      });
      process.stdout.write(progressUpdate(batch, previous, display));
      previous = batch;
      if (isFinal(batch.status)) {
        if (display.tty) process.stdout.write("\n");
        return batch;
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    process.off("SIGINT", interrupted);
  }
}

/**
 * Reports a finished batch: the summary, the reasons it failed, and its result files — written
 * where asked, or how to fetch them. Exit code 0 only if it completed (some lines may still have
 * failed: they are in the error file).
 */
async function finish(
  client: GatewayClient,
  batch: Batch,
  destinations: { output?: string; errors?: string } = {},
): Promise<number> {
  process.stdout.write(`${summaryLine(batch)}\n`);
  for (const problem of batch.errors?.data ?? []) process.stderr.write(`error: ${problem.message}\n`);
  const files = [
    { name: "output", id: batch.output_file_id, path: destinations.output, flag: "" },
    { name: "errors", id: batch.error_file_id, path: destinations.errors, flag: " --errors" },
  ];
  for (const { name, id, path, flag } of files) {
    if (path !== undefined) {
      // No file: no line ended that way; an empty file says so to whatever reads it next.
      const content = id ? await client.fileContent(id) : Buffer.alloc(0);
      await writeFile(path, content).catch((error: Error) => {
        throw new Failure(`cannot write ${path}: ${error.message}`);
      });
      process.stdout.write(`${name}: ${lineCount(content).toLocaleString("en-US")} lines in ${path}\n`);
    } else if (id) process.stdout.write(`${name}: ${cli} batch results ${batch.id}${flag}\n`);
  }
  return batch.status === "completed" ? 0 : 1;
}

function lineCount(content: Buffer): number {
  return content
    .toString("utf8")
    .split("\n")
    .filter((line) => line.trim() !== "").length;
}

async function status(argv: string[]): Promise<number> {
  const parsed = parse(argv, { watch: { type: "boolean" } }, ["id"]);
  if (!parsed) return 0;
  const [id] = parsed.positionals as [string];
  const client = connect(parsed.values);
  if (parsed.values.watch) return finish(client, await watch(client, id));
  const batch = await client.getBatch(id);
  process.stdout.write(`${progressLine(batch)}\n`);
  if (isFinal(batch.status)) await finish(client, batch);
  return 0;
}

async function cancel(argv: string[]): Promise<number> {
  const parsed = parse(argv, {}, ["id"]);
  if (!parsed) return 0;
  const batch = await connect(parsed.values).cancelBatch(parsed.positionals[0] as string);
  process.stdout.write(`${batch.id} ${batch.status}\n`);
  return 0;
}

async function list(argv: string[]): Promise<number> {
  const parsed = parse(argv, { limit: { type: "string", default: "20" } }, []);
  if (!parsed) return 0;
  const limit = Number(parsed.values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw new UsageError("--limit must be a whole number from 1 to 100");
  const { data } = await connect(parsed.values).listBatches(limit);
  if (parsed.values.json) {
    for (const batch of data) process.stdout.write(`${JSON.stringify(batch)}\n`);
    return 0;
  }
  if (data.length === 0) {
    process.stderr.write("no batches\n");
    return 0;
  }
  const rows = data.map((batch) => [
    batch.id,
    batch.status,
    `${doneOf(batch).toLocaleString("en-US")}/${batch.request_counts.total.toLocaleString("en-US")}`,
    batch.request_counts.failed.toLocaleString("en-US"),
    isoTime(batch.created_at * 1000),
    batch.endpoint,
  ]);
  printTable([["id", "status", "done", "failed", "created", "endpoint"], ...rows]);
  return 0;
}

async function results(argv: string[]): Promise<number> {
  const parsed = parse(argv, { errors: { type: "boolean" } }, ["id"]);
  if (!parsed) return 0;
  const client = connect(parsed.values);
  const batch = await client.getBatch(parsed.positionals[0] as string);
  const fileId = parsed.values.errors ? batch.error_file_id : batch.output_file_id;
  const which = parsed.values.errors ? "error" : "output";
  if (!fileId) {
    if (!isFinal(batch.status))
      throw new Failure(`${batch.id} is ${batch.status}: its files are written when it ends`);
    // A finished batch without this file had no line end this way: nothing to print is the answer.
    process.stderr.write(`${batch.id} has no ${which} file\n`);
    return 0;
  }
  process.stdout.write(await client.fileContent(fileId));
  return 0;
}
