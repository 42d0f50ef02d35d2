import { parseArgs } from "node:util";
import { type ClientName, clientNames } from "./client.ts";
import type { Phase } from "./roles.ts";

export interface KafkaClientsOptions {
  quick: boolean;
  clients: ClientName[];
  rounds: number;
  /** Partitions of each request topic and of the reply topic. */
  partitions: number;
  warmup: Phase;
  /** Each client's unmeasured turn before the first round, so that the broker's JIT has settled. */
  brokerWarmup: Phase;
  phases: Phase[];
}

/**
 * `npm run bench:kafka-clients -- [--quick] [--rounds N] [--partitions N] [--rate N] [--high-rate N]
 * [--in-flight N] [--phase-seconds N] [--most-seconds N]`
 */
export function parseKafkaClientsOptions(argv: string[]): KafkaClientsOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      partitions: { type: "string", default: "12" },
      rate: { type: "string", default: "200" },
      "high-rate": { type: "string", default: "800" },
      "in-flight": { type: "string", default: "1000" },
      "phase-seconds": { type: "string" },
      "most-seconds": { type: "string" },
    },
  });
  const quick = values.quick;
  const phaseMs = Number(values["phase-seconds"] ?? (quick ? 4 : 15)) * 1000;
  const mostMs = Number(values["most-seconds"] ?? (quick ? 4 : 10)) * 1000;
  const rate = Number(values.rate);
  const highRate = Number(values["high-rate"]);
  const inFlight = Number(values["in-flight"]);
  return {
    quick,
    clients: [...clientNames],
    rounds: Number(values.rounds ?? (quick ? 1 : 2)),
    partitions: Number(values.partitions),
    // Connections, metadata, JIT and the consumer groups' first fetches happen here, unmeasured.
    warmup: { name: "warm-up", kind: "rate", rate, durationMs: quick ? 2_000 : 5_000 },
    brokerWarmup: {
      name: "broker warm-up",
      kind: "rate",
      rate: highRate,
      durationMs: quick ? 2_000 : 10_000,
    },
    phases: [
      { name: `${rate}/s`, kind: "rate", rate, durationMs: phaseMs },
      { name: `${highRate}/s`, kind: "rate", rate: highRate, durationMs: phaseMs },
      { name: `most, ${inFlight} in flight`, kind: "most", inFlight, durationMs: mostMs },
    ],
  };
}
