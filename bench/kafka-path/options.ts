import { parseArgs } from "node:util";
import { parseSettingOverride, type SettingOverride } from "../settings-overrides.ts";

export interface KafkaPathOptions {
  rate: number;
  phaseMs: number;
  rounds: number;
  /** Load before the first round, unmeasured: the broker JVM's JIT warm-up. */
  warmupMs: number;
  directMs: number;
  partitions: number;
  /** Settings over the bench's own (`path.to.option=value`): an experiment, printed but not written. */
  overrides: SettingOverride[];
  quick: boolean;
  /** Minutes of one long phase instead of the rounds, for memory over time; none: the rounds. */
  soakMinutes?: number;
}

/** `npm run bench:kafka-path -- [--quick] [--rate N] [--seconds N] [--rounds N] [--soak MINUTES] [--set a.b=value]...` */
export function parseKafkaPathOptions(argv: string[]): KafkaPathOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      rate: { type: "string", default: "200" },
      seconds: { type: "string" },
      rounds: { type: "string" },
      partitions: { type: "string", default: "12" },
      set: { type: "string", multiple: true, default: [] },
      soak: { type: "string" },
    },
  });
  const quick = values.quick;
  return {
    quick,
    rate: Number(values.rate),
    phaseMs: Number(values.seconds ?? (quick ? 5 : 20)) * 1000,
    rounds: Number(values.rounds ?? (quick ? 1 : 3)),
    warmupMs: quick ? 10_000 : 60_000,
    directMs: 5_000,
    partitions: Number(values.partitions),
    overrides: values.set.map(parseSettingOverride),
    soakMinutes: values.soak === undefined ? undefined : Number(values.soak),
  };
}
