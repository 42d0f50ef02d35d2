import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { createClient } from "@clickhouse/client";
import { Pool } from "undici";
import { provisionServices } from "../test/services/provision.ts";
import { type GatewayProcess, spawnGateway } from "../test/support/processes.ts";
import type { BatchView, PhaseResult, Stage } from "./batch-phases.ts";
import { benchGatewayKey, benchModel, benchProviderKey } from "./chat-call.ts";
import { cpuByLabel, machineBusyMs } from "./cpu.ts";
import { writeGeneratedSection } from "./generated-section.ts";
import { ms, openLoop, quantile, uniformLatencies } from "./stats.ts";
import { spawnUpstream } from "./upstream.ts";

/**
 * `npm run bench:batch`: does a big batch job hurt interactive latency? Real Kafka, Redis and
 * ClickHouse (started as the tests start them), an OpenAI emulator in its own process that waits
 * a first-byte latency drawn per call (50–200 ms by default, `[emulator:latency=MS]` in each
 * prompt, interactive and batch alike), and the gateway as 2 ingress + 2 worker + 1 sink + 1 batch
 * coordinator processes on Kafka + Redis. Phases:
 *   A  interactive load alone: a fixed rate, open-loop, alternating whole and streamed answers;
 *   B  a 10,000-line batch submitted over HTTP (Files + Batch API), the same load while it runs;
 *   C  the batch left to finish: its total time and throughput;
 *   D  the interactive load alone again (how much the machine drifted between A and B).
 * Latency is from each request's due time to its whole answer (streamed: its first content), as
 * the client sees it; "added" subtracts the emulator latency that request asked for; the gateway's
 * own `Server-Timing: answer;dur=` is reported the same way. Prints a markdown report; a full run
 * (not `--quick`) writes it into BENCHMARKS.md between its markers.
 */
const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rate: { type: "string", default: "50" },
    seconds: { type: "string" },
    lines: { type: "string" },
    latency: { type: "string", default: "50-200" },
    concurrency: { type: "string", default: "256" },
    "batch-share": { type: "string", default: "0.5" },
    "yield-ms": { type: "string", default: "30" },
    partitions: { type: "string", default: "12" },
    write: { type: "boolean" },
  },
});
const quick = args.quick === true;
const rate = Number(args.rate);
const phaseMs = Number(args.seconds ?? (quick ? 5 : 30)) * 1000;
const lineCount = Number(args.lines ?? (quick ? 1_000 : 10_000));
const [latencyLow, latencyHigh] = args.latency.split("-").map(Number) as [number, number];
const concurrency = Number(args.concurrency);
const batchShare = Number(args["batch-share"]);
const batchYieldWaitMs = Number(args["yield-ms"]);
const write = args.write ?? !quick;

const processes: Record<string, RegExp> = {
  "gateway ingress (2)": /bin\/gateway\.ts start --role ingress/,
  "gateway worker (2)": /bin\/gateway\.ts start --role worker/,
  "gateway batch coordinator": /bin\/gateway\.ts start --role batch/,
  "gateway sink": /bin\/gateway\.ts start --role sink/,
  "Kafka broker": /kafka\.Kafka /,
  Redis: /^redis-server/,
  ClickHouse: /launch-embedded\.py/,
  "upstream emulator": /bench\/emulator\.ts/,
  "load generator": /bench\/batch-interference\.ts/,
};

/** CPU time (ms) of this run's processes by label, and the whole machine's under `machine`. */
function cpuOfOurs(labels: Record<string, RegExp>): Record<string, number> {
  return { ...cpuByLabel(labels), [machine]: machineBusyMs() };
}

const machine = "the whole machine";

// Before the services: should they fail to start, the emulator ends with this process (its stdin closes).
const emulator = await spawnUpstream(benchProviderKey);
const services = await provisionServices();
const gateways: GatewayProcess[] = [];
const pools: Pool[] = [];
try {
  const started = Date.now();
  const namespace = `batchbench${Date.now()}`;
  const settings = {
    server: { host: "127.0.0.1", port: 0 },
    auth: { keys: [benchGatewayKey] },
    log: { level: "info" },
    workers: { concurrency, share: { batch: batchShare }, batchYieldWaitMs },
    kafka: {
      brokers: services.endpoints.kafka.brokers,
      topicPrefix: `${namespace}.`,
      partitions: Number(args.partitions),
    },
    redis: { url: services.endpoints.redis.url, keyPrefix: `${namespace}:` },
    clickhouse: { ...services.endpoints.clickhouse, database: namespace },
    batches: { maxLines: Math.max(50_000, lineCount) },
    providers: [
      {
        name: "emulator",
        type: "openai",
        options: { baseUrl: emulator.url, apiKey: benchProviderKey, maxConnections: 1024 },
      },
    ],
    models: [{ name: benchModel, provider: "emulator" }],
  };
  gateways.push(await spawnGateway(settings, "sink"));
  gateways.push(await spawnGateway(settings, "worker"));
  gateways.push(await spawnGateway(settings, "worker"));
  gateways.push(await spawnGateway(settings, "batch"));
  const ingresses = [await spawnGateway(settings, "ingress"), await spawnGateway(settings, "ingress")];
  gateways.push(...ingresses);
  const api = (ingresses[0] as GatewayProcess).url;
  pools.push(...ingresses.map((ingress) => new Pool(ingress.url, { connections: 256 })));

  const interactiveLatency = uniformLatencies(1, latencyLow, latencyHigh);
  const batchLatency = uniformLatencies(2, latencyLow, latencyHigh);
  let sequence = 0;

  /** One interactive call; pushes its measures into `into` and returns the client latency. */
  const call = (into: PhaseResult["kinds"]) => async (scheduledAt: number) => {
    const index = sequence++;
    const stream = index % 2 === 1;
    const upstream = interactiveLatency();
    const pool = pools[index % pools.length] as Pool;
    const response = await pool.request({
      method: "POST",
      path: "/v1/chat/completions",
      headers: { "content-type": "application/json", authorization: `Bearer ${benchGatewayKey}` },
      body: JSON.stringify({
        model: benchModel,
        stream,
        max_tokens: 16,
        messages: [
          { role: "user", content: `Interactive question ${index}? [emulator:latency=${upstream}]` },
        ],
      }),
    });
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new Error(`HTTP ${response.statusCode}`);
    }
    let latency: number | undefined;
    if (!stream) {
      await response.body.text();
      latency = performance.now() - scheduledAt;
    } else {
      let seen = "";
      for await (const chunk of response.body) {
        if (latency === undefined) {
          seen += chunk.toString();
          if (/"content":"[^"]/.test(seen)) latency = performance.now() - scheduledAt;
        }
      }
      if (latency === undefined) throw new Error("no content in the stream");
    }
    const kind = into[stream ? "streamed" : "whole"];
    kind.client.push(latency);
    kind.added.push(latency - upstream);
    const dur = Number(/dur=([\d.]+)/.exec(String(response.headers["server-timing"]))?.[1]);
    if (Number.isFinite(dur)) kind.serverAdded.push(dur - upstream);
    return latency;
  };

  const emptyKinds = (): PhaseResult["kinds"] => ({
    whole: { client: [], added: [], serverAdded: [] },
    streamed: { client: [], added: [], serverAdded: [] },
  });

  const cpuOver = async (run: () => Promise<unknown>) => {
    const before = cpuOfOurs(processes);
    const from = performance.now();
    await run();
    const elapsed = performance.now() - from;
    const after = cpuOfOurs(processes);
    return Object.fromEntries(
      [...Object.keys(processes), machine].map((label) => [
        label,
        ((after[label] ?? 0) - (before[label] ?? 0)) / elapsed,
      ]),
    );
  };

  const interactivePhase = async (name: string): Promise<PhaseResult> => {
    const kinds = emptyKinds();
    const from = Date.now();
    let errors = 0;
    const cpuCores = await cpuOver(async () => {
      errors = (await openLoop(rate, phaseMs, call(kinds))).errors;
    });
    return { name, kinds, errors, cpuCores, from, to: Date.now() };
  };

  const headers = { authorization: `Bearer ${benchGatewayKey}` };
  const submit = async (count: number, tag: string) => {
    const body = `${Array.from({ length: count }, (_, index) =>
      JSON.stringify({
        custom_id: `${tag}-${index}`,
        method: "POST",
        url: "/v1/chat/completions",
        body: {
          model: benchModel,
          max_tokens: 16,
          messages: [
            { role: "user", content: `Batch line ${tag} ${index} [emulator:latency=${batchLatency()}]` },
          ],
        },
      }),
    ).join("\n")}\n`;
    const form = new FormData();
    form.append("purpose", "batch");
    form.append("file", new Blob([body], { type: "application/jsonl" }), `${tag}.jsonl`);
    const uploadStarted = performance.now();
    const file = await fetch(`${api}/v1/files`, { method: "POST", headers, body: form });
    if (!file.ok) throw new Error(`upload: HTTP ${file.status} ${await file.text()}`);
    const { id: fileId } = (await file.json()) as { id: string };
    const uploadMs = performance.now() - uploadStarted;
    const created = await fetch(`${api}/v1/batches`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({
        input_file_id: fileId,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      }),
    });
    if (!created.ok) throw new Error(`batch: HTTP ${created.status} ${await created.text()}`);
    return { batch: (await created.json()) as BatchView, createdAt: performance.now(), uploadMs };
  };
  const retrieve = async (id: string): Promise<BatchView> => {
    const response = await fetch(`${api}/v1/batches/${id}`, { headers });
    if (!response.ok) throw new Error(`batch ${id}: HTTP ${response.status}`);
    return (await response.json()) as BatchView;
  };
  const ended = (batch: BatchView) => ["completed", "failed", "expired", "cancelled"].includes(batch.status);
  const done = (batch: BatchView) =>
    batch.progress?.done ?? batch.request_counts.completed + batch.request_counts.failed;
  const awaitEnd = async (id: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const batch = await retrieve(id);
      if (ended(batch)) return batch;
      if (Date.now() > deadline) throw new Error(`batch ${id} still ${batch.status} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  // Warm-up: connections, JIT, Kafka metadata and consumer assignments, the batch path end to end.
  await openLoop(rate, quick ? 3_000 : 10_000, call(emptyKinds()));
  const warm = await submit(quick ? 100 : 500, "warm-up");
  await awaitEnd(warm.batch.id, 120_000);
  await openLoop(rate, quick ? 2_000 : 5_000, call(emptyKinds()));
  // What the whole setup costs doing nothing (consumers polling, heartbeats, timers).
  const idle = await cpuOver(() => new Promise((resolve) => setTimeout(resolve, quick ? 3_000 : 5_000)));

  const phaseA = await interactivePhase("A: interactive only");

  const submitted = await submit(lineCount, "bench");
  // Phase B starts once the batch is running (the coordinator feeds it on its next tick).
  let before = await retrieve(submitted.batch.id);
  for (let waited = 0; done(before) === 0 && waited < 20_000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    before = await retrieve(submitted.batch.id);
  }
  const phaseBStarted = performance.now();
  const phaseB = await interactivePhase("B: interactive + batch");
  const phaseBSeconds = (performance.now() - phaseBStarted) / 1000;
  const after = await retrieve(submitted.batch.id);
  phaseB.batch = {
    doneBefore: done(before),
    doneAfter: done(after),
    finishedWithin: ended(after),
    seconds: phaseBSeconds,
  };

  const final = await awaitEnd(submitted.batch.id, 30 * 60_000);
  const batchSeconds = (performance.now() - submitted.createdAt) / 1000;

  const phaseD = await interactivePhase("D: interactive only, after the batch");

  await new Promise((resolve) => setTimeout(resolve, 3_000)); // the sink lands the last events
  const clickhouse = createClient({ ...services.endpoints.clickhouse, database: namespace });
  try {
    for (const phase of [phaseA, phaseB, phaseD]) {
      const result = await clickhouse.query({
        query: `SELECT
            priority,
            count() AS attempts,
            quantile(0.5)(toUnixTimestamp64Milli(started_at) - toUnixTimestamp64Milli(received_at)) AS queue_p50,
            quantile(0.99)(toUnixTimestamp64Milli(started_at) - toUnixTimestamp64Milli(received_at)) AS queue_p99,
            quantile(0.5)(toUnixTimestamp64Milli(finished_at) - toUnixTimestamp64Milli(started_at)) AS worker_p50,
            quantile(0.99)(toUnixTimestamp64Milli(finished_at) - toUnixTimestamp64Milli(started_at)) AS worker_p99
          FROM attempts FINAL
          WHERE received_at BETWEEN fromUnixTimestamp64Milli({from:Int64}) AND fromUnixTimestamp64Milli({to:Int64})
          GROUP BY priority ORDER BY priority DESC`,
        query_params: { from: phase.from, to: phase.to },
        format: "JSONEachRow",
      });
      phase.stages = await result.json<Stage>();
    }
  } finally {
    await clickhouse.close();
  }

  const report = render({
    idle,
    phases: [phaseA, phaseB, phaseD],
    final,
    batchSeconds,
    uploadMs: submitted.uploadMs,
    seconds: Math.round((Date.now() - started) / 1000),
  });
  process.stdout.write(`${report}\n`);
  if (write)
    writeGeneratedSection(
      "bench:batch",
      "## Batch jobs and interactive latency (`npm run bench:batch`)",
      report,
    );
} finally {
  await Promise.all(pools.map((pool) => pool.close()));
  for (const gateway of gateways) gateway.kill("SIGTERM");
  await Promise.all(gateways.map((gateway) => gateway.exited));
  emulator.stop();
  await services.stop();
}

function render(result: {
  idle: Record<string, number>;
  phases: PhaseResult[];
  final: BatchView;
  batchSeconds: number;
  uploadMs: number;
  seconds: number;
}): string {
  const { phases, final } = result;
  const triple = (samples: number[]) =>
    `${ms(quantile(samples, 0.5))} / ${ms(quantile(samples, 0.95))} / ${ms(quantile(samples, 0.99))}`;
  const [phaseA, phaseB] = phases as [PhaseResult, PhaseResult, PhaseResult];
  const batchB = phaseB.batch;
  const linesInB = batchB ? batchB.doneAfter - batchB.doneBefore : 0;
  const p99 = (phase: PhaseResult, kind: "whole" | "streamed") => quantile(phase.kinds[kind].client, 0.99);
  const ours = (phase: PhaseResult) =>
    Object.keys(processes).reduce((sum, label) => sum + (phase.cpuCores[label] ?? 0), 0);
  const command = `npm run bench:batch${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  return [
    `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC by \`${command}\` (${result.seconds} s) on ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. Everything ran on this one machine at once: Kafka, Redis, ClickHouse, the emulator, the gateway as 2 ingress + 2 worker + 1 sink + 1 batch-coordinator processes on Kafka + Redis, and the load generator.`,
    "",
    `Settings: interactive load ${rate} requests/s open-loop, alternating whole and streamed answers, ${phaseMs / 1000} s per phase; emulator first-byte latency uniform ${latencyLow}–${latencyHigh} ms per call (interactive and batch lines alike); \`workers.concurrency\` ${concurrency} per worker, \`workers.share.batch\` ${batchShare} (at most ${Math.max(1, Math.floor(concurrency * batchShare))} batch lines at once per worker), \`workers.batchYieldWaitMs\` ${batchYieldWaitMs} (${batchYieldWaitMs > 0 ? "batch lines yield while other requests wait longer" : "off: batch keeps its whole share"}); a batch of ${lineCount.toLocaleString("en")} chat-completion lines.`,
    "",
    "### Interactive latency (ms, p50 / p95 / p99)",
    "",
    "client: from the request's due time to its whole answer (streamed: first content); added: the same minus the emulator latency it asked for; Server-Timing: the gateway's own `answer;dur=` minus that latency.",
    "",
    "| phase | answer | requests | errors | client | added | Server-Timing added |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...phases.flatMap((phase) =>
      (["whole", "streamed"] as const).map((kind) => {
        const samples = phase.kinds[kind];
        return `| ${phase.name} | ${kind} | ${samples.client.length} | ${phase.errors} | ${triple(samples.client)} | ${triple(samples.added)} | ${triple(samples.serverAdded)} |`;
      }),
    ),
    "",
    `Interactive p99 with the batch running vs without (B / A): whole ${(p99(phaseB, "whole") / p99(phaseA, "whole")).toFixed(2)}×, streamed ${(p99(phaseB, "streamed") / p99(phaseA, "streamed")).toFixed(2)}×.`,
    "",
    "### The batch",
    "",
    "| measure | value |",
    "| --- | --- |",
    `| upload of the input file (${lineCount.toLocaleString("en")} lines) | ${(result.uploadMs / 1000).toFixed(2)} s |`,
    `| lines done during phase B (${batchB?.seconds.toFixed(1)} s) | ${linesInB} (${(linesInB / (batchB?.seconds ?? 1)).toFixed(1)} lines/s)${batchB?.finishedWithin ? " — the batch finished before the phase ended" : ""} |`,
    `| whole batch, created → ${final.status} | ${result.batchSeconds.toFixed(1)} s (${(final.request_counts.total / result.batchSeconds).toFixed(1)} lines/s) |`,
    `| lines completed / failed | ${final.request_counts.completed} / ${final.request_counts.failed} |`,
    "",
    "### Inside the gateway (ms, p50 / p99, from its own attempt events in ClickHouse)",
    "",
    "queue: from the ingress receiving a request (a batch line: the coordinator publishing it) to a worker starting it; worker: from start to the answer done, the emulator latency included.",
    "",
    "| phase | priority | attempts | queue | worker |",
    "| --- | --- | --- | --- | --- |",
    ...phases.flatMap((phase) =>
      (phase.stages ?? []).map(
        (stage) =>
          `| ${phase.name} | ${stage.priority} | ${stage.attempts} | ${Math.round(Number(stage.queue_p50))} / ${Math.round(Number(stage.queue_p99))} | ${Math.round(Number(stage.worker_p50))} / ${Math.round(Number(stage.worker_p99))} |`,
      ),
    ),
    "",
    "### CPU busy (cores, all processes of each kind): idle, and during each interactive phase",
    "",
    `| process | idle | ${phases.map((phase) => phase.name.split(":")[0]).join(" | ")} |`,
    `| --- | --- | ${phases.map(() => "---").join(" | ")} |`,
    ...Object.keys(processes).map(
      (label) =>
        `| ${label} | ${(result.idle[label] ?? 0).toFixed(2)} | ${phases.map((phase) => (phase.cpuCores[label] ?? 0).toFixed(2)).join(" | ")} |`,
    ),
    `| **this benchmark** | **${ours({ cpuCores: result.idle } as PhaseResult).toFixed(2)}** | ${phases.map((phase) => `**${ours(phase).toFixed(2)}**`).join(" | ")} |`,
    `| everything else on the machine | ${((result.idle[machine] ?? 0) - ours({ cpuCores: result.idle } as PhaseResult)).toFixed(2)} | ${phases.map((phase) => ((phase.cpuCores[machine] ?? 0) - ours(phase)).toFixed(2)).join(" | ")} |`,
    `| **the whole machine** (of ${cpus().length}) | **${(result.idle[machine] ?? 0).toFixed(2)}** | ${phases.map((phase) => `**${(phase.cpuCores[machine] ?? 0).toFixed(2)}**`).join(" | ")} |`,
  ].join("\n");
}
