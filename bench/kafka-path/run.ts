import { loadavg } from "node:os";
import { createClient } from "@clickhouse/client";
import { provisionServices } from "../../test/services/provision.ts";
import { benchProviderKey } from "../chat-call.ts";
import { descendantsMatching } from "../cpu.ts";
import { distributedSettings, startTopology } from "../distributed-gateway.ts";
import { writeGeneratedSection } from "../generated-section.ts";
import { withOverrides } from "../settings-overrides.ts";
import { openLoop } from "../stats.ts";
import { spawnUpstream } from "../upstream.ts";
import { measureRound, type RoundResult, residentByRole } from "./measure.ts";
import { parseKafkaPathOptions } from "./options.ts";
import { renderRounds, renderSoak } from "./report.ts";
import { soak } from "./soak.ts";
import { requestStages, stagesOfSlowest } from "./stages.ts";

/**
 * `npm run bench:kafka-path`: where a request's time and CPU go on the Kafka path — per process
 * CPU and system calls, Redis commands, ClickHouse inserts and merges, and who held the cores
 * while the slowest requests were in flight. Writes its report into BENCHMARKS.md unless `--quick`
 * or `--set` (an experiment).
 */
const options = parseKafkaPathOptions(process.argv.slice(2));
const startedAt = new Date();
const loadAtStart = loadavg();
const services = await provisionServices();
const upstream = await spawnUpstream(benchProviderKey);
const clickhouse = createClient({
  url: services.endpoints.clickhouse.url,
  username: services.endpoints.clickhouse.username,
  password: services.endpoints.clickhouse.password,
});
try {
  const gateway = distributedSettings(services.endpoints, upstream.url, options.partitions);
  const settings = withOverrides(gateway, options.overrides);
  const topology = await startTopology(settings, { ingresses: 1, workers: 2 });
  try {
    // Each role's processes by their place in startTopology's order: the sink, the workers, the ingress.
    const places = { ingress: [3], "workers (2)": [1, 2], sink: [0] };
    const ofEachRole = <T>(all: T[]) =>
      Object.fromEntries(
        Object.entries(places).map(([role, at]) => [role, at.map((index) => all[index] as T)]),
      );
    const gatewayUrls = ofEachRole(topology.urls);
    const roles = {
      ...ofEachRole(topology.pids),
      "Kafka broker": descendantsMatching(/kafka\.Kafka /),
      Redis: descendantsMatching(/^redis-server/),
      ClickHouse: descendantsMatching(/launch-embedded\.py/),
    };
    process.stderr.write(`warming up: ${options.warmupMs / 1000} s\n`);
    await openLoop(options.rate, options.warmupMs, topology.call(false));
    const args = process.argv.slice(2);
    const run = {
      options,
      command: `npm run bench:kafka-path${args.length > 0 ? ` -- ${args.join(" ")}` : ""}`,
      startedAt,
      loadAtStart,
      seconds: 0,
    };
    const finished = () => ({ ...run, seconds: Math.round((Date.now() - startedAt.getTime()) / 1000) });
    let report: string;
    let section: string;
    let heading: string;
    if (options.soakMinutes !== undefined) {
      report = renderSoak(finished(), await soak(topology, roles, options.rate, options.soakMinutes));
      section = "bench:kafka-path -- --soak";
      heading = "## Memory over a soak on the Kafka path (`npm run bench:kafka-path -- --soak 10`)";
    } else {
      const rounds: RoundResult[] = [];
      for (let round = 1; round <= options.rounds; round++) {
        process.stderr.write(`round ${round}/${options.rounds}\n`);
        rounds.push(
          await measureRound(
            topology,
            {
              roles,
              gatewayUrls,
              redisUrl: services.endpoints.redis.url,
              clickhouse,
              upstreamUrl: upstream.url,
            },
            options,
          ),
        );
      }
      // Memory once the load has stopped: what a process keeps, not what it was using. By then the
      // sink has stored the last round's events too (it waits 5 s at most).
      await new Promise((resolve) => setTimeout(resolve, 15_000));
      const resident = residentByRole(roles);
      const stages = await Promise.all(
        rounds.map(({ window }) =>
          requestStages(clickhouse, gateway.clickhouse.database, window.fromMs, window.toMs),
        ),
      );
      report = renderRounds(finished(), rounds, resident, stagesOfSlowest(stages.flat()));
      section = "bench:kafka-path";
      heading = "## Where a request goes on the Kafka path (`npm run bench:kafka-path`)";
    }
    process.stdout.write(`${report}\n`);
    if (!options.quick && options.overrides.length === 0) writeGeneratedSection(section, heading, report);
  } finally {
    await topology.stop();
  }
} finally {
  upstream.stop();
  await clickhouse.close();
  await services.stop();
}
