import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { provisionServices } from "../test/services/provision.ts";
import { writeGeneratedSection } from "./generated-section.ts";
import { measureReplyChannels } from "./reply-channel.ts";
import { benchRequestPath } from "./request-path.ts";
import { parseSettingOverride } from "./settings-overrides.ts";
import { ms, quantile } from "./stats.ts";

/**
 * `npm run bench`: measures the reply channels and the request path on real Kafka, Redis and
 * ClickHouse (started like the tests start them), prints the results and writes them into
 * BENCHMARKS.md between its generated-section markers.
 */
const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rate: { type: "string", default: "200" },
    sweep: { type: "string" },
    partitions: { type: "string", default: "12" },
    set: { type: "string", multiple: true, default: [] },
  },
});
const quick = args.quick === true;
const rate = Number(args.rate);
const overrides = args.set.map(parseSettingOverride);
const warmupMs = quick ? 5_000 : 60_000;
const services = await provisionServices();
try {
  const started = Date.now();
  const channels = await measureReplyChannels({
    redisUrl: services.endpoints.redis.url,
    kafkaBrokers: services.endpoints.kafka.brokers,
  });
  const path = await benchRequestPath({
    services: services.endpoints,
    rate,
    partitions: Number(args.partitions),
    overrides,
    warmupMs,
    phaseMs: quick ? 5_000 : 15_000,
    sweepRates: args.sweep
      ? args.sweep.split(",").map(Number)
      : quick
        ? [200, 400]
        : [100, 200, 300, 400, 600, 800],
    sweepMs: quick ? 3_000 : 6_000,
    profileMs: quick ? 6_000 : 10_000,
  });
  const report = render(channels, path, Math.round((Date.now() - started) / 1000));
  process.stdout.write(`${report}\n`);
  // A run with a setting of its own is a trial: printed, not written over the defaults' figures.
  if (overrides.length === 0) writeGeneratedSection("bench", "## Request path (`npm run bench`)", report);
} finally {
  await services.stop();
}

type PathResult = Awaited<ReturnType<typeof benchRequestPath>>;

function render(
  channels: Awaited<ReturnType<typeof measureReplyChannels>>,
  path: PathResult,
  seconds: number,
): string {
  const { phases } = path;
  const added = (gateway: number[], direct: number[], q: number) =>
    quantile(gateway, q) - quantile(direct, q);
  const row = (name: string, direct: number[], gateway: number[]) =>
    `| ${name} | ${ms(quantile(direct, 0.5))} / ${ms(quantile(direct, 0.99))} | ${ms(quantile(gateway, 0.5))} / ${ms(quantile(gateway, 0.99))} | **${ms(added(gateway, direct, 0.5))}** / **${ms(added(gateway, direct, 0.99))}** |`;
  const held = path.sweep
    .filter((step) => step.errors === 0 && step.gateway.p99 - step.direct.p99 < 50)
    .map((step) => step.rate);
  const errors = Object.values(phases).reduce((sum, phase) => sum + phase.errors, 0);
  return [
    `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC by \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}\` (${seconds} s) on ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. Everything ran on this one machine at once: Kafka, Redis, ClickHouse, the emulator, 2 ingress + 2 worker + 1 sink processes and the load generator. The gateway ran ${warmupMs / 1000} s unmeasured at 200 requests/s first: the broker's JVM compiles its hot paths in its first minute of load.`,
    "",
    "### Reply channel: one-way latency of a 120-byte message at 1,000 messages/s (ms)",
    "",
    "| channel | p50 | p90 | p99 |",
    "| --- | --- | --- | --- |",
    ...Object.entries(channels).map(
      ([name, result]) => `| ${name} | ${ms(result.p50)} | ${ms(result.p90)} | ${ms(result.p99)} |`,
    ),
    "",
    `### Request path at ${rate} requests/s: direct to the emulator vs through the gateway (ms, p50 / p99)`,
    "",
    "| measure | direct | through the gateway | added by the gateway |",
    "| --- | --- | --- | --- |",
    row("non-streaming, whole answer", phases.directWhole.latencies, phases.gatewayWhole.latencies),
    row("streaming, time to first token", phases.directStream.latencies, phases.gatewayStream.latencies),
    "",
    `Requests that failed during the fixed-rate phases: ${errors}.`,
    "",
    "### Rate sweep, non-streaming (ms)",
    "",
    "| requests/s | direct p50 / p99 | gateway p50 / p99 | added p50 / p99 | errors |",
    "| --- | --- | --- | --- | --- |",
    ...path.sweep.map(
      (step) =>
        `| ${step.rate} | ${ms(step.direct.p50)} / ${ms(step.direct.p99)} | ${ms(step.gateway.p50)} / ${ms(step.gateway.p99)} | ${ms(step.gateway.p50 - step.direct.p50)} / ${ms(step.gateway.p99 - step.direct.p99)} | ${step.errors} |`,
    ),
    "",
    held.length > 0
      ? `Highest rate held with p99 added latency under 50 ms and no errors: **${Math.max(...held)} requests/s** (of the rates tried).`
      : `No rate tried held p99 added latency under 50 ms with no errors (the lowest: ${Math.min(...path.sweep.map((step) => step.rate))} requests/s).`,
    "",
    `### CPU per non-streaming request through the gateway at ${rate} requests/s (ms of CPU, all processes of each kind)`,
    "",
    "| process | CPU ms per request |",
    "| --- | --- |",
    ...Object.entries(path.cpuPerRequest).map(([name, value]) => `| ${name} | ${value.toFixed(2)} |`),
    `| **total** | **${Object.values(path.cpuPerRequest)
      .reduce((sum, value) => sum + value, 0)
      .toFixed(2)}** |`,
    "",
    "### Where a request's time goes (p50, ms, from the gateway's own attempt events in ClickHouse)",
    "",
    "| stream | attempts | ingress → Kafka → worker start (p50 / p99) | worker start → first token | worker start → done |",
    "| --- | --- | --- | --- | --- |",
    ...path.stages.map(
      (stage) =>
        `| ${stage.stream ? "yes" : "no"} | ${stage.attempts} | ${Math.round(Number(stage.queue_p50))} / ${Math.round(Number(stage.queue_p99))} | ${Math.round(Number(stage.provider_first_token_p50))} | ${Math.round(Number(stage.worker_total_p50))} |`,
    ),
    "",
    `### CPU profile of one ingress and one worker process over the whole run (${path.profile.totalSeconds.toFixed(1)} s of CPU, idle excluded)`,
    "",
    "| where | share of CPU |",
    "| --- | --- |",
    ...path.profile.areas.map((area) => `| ${area.name} | ${area.percent.toFixed(1)} % |`),
    "",
    "| hottest functions (self time) | share |",
    "| --- | --- |",
    ...path.profile.functions.map((fn) => `| \`${fn.name}\` | ${fn.percent.toFixed(1)} % |`),
  ].join("\n");
}
