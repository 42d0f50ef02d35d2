import { parseArgs } from "node:util";

export interface KafkaPathOptions {
  rate: number;
  phaseMs: number;
  rounds: number;
  /** Load before the first round, unmeasured: the broker JVM's JIT warm-up. */
  warmupMs: number;
  directMs: number;
  partitions: number;
  /** Settings over the bench's own (`path.to.option=value`): an experiment, printed but not written. */
  overrides: Array<{ path: string[]; value: unknown }>;
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
    overrides: values.set.map(parseOverride),
    soakMinutes: values.soak === undefined ? undefined : Number(values.soak),
  };
}

function parseOverride(text: string): { path: string[]; value: unknown } {
  const equals = text.indexOf("=");
  if (equals < 1) throw new Error(`--set wants path.to.option=value, not "${text}"`);
  const raw = text.slice(equals + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a bare string
  }
  return { path: text.slice(0, equals).split("."), value };
}

/** `settings` with each override set in place (objects on the way made as needed). */
export function withOverrides(
  settings: Record<string, unknown>,
  overrides: KafkaPathOptions["overrides"],
): Record<string, unknown> {
  const copy = structuredClone(settings);
  for (const { path, value } of overrides) {
    let at = copy;
    for (const key of path.slice(0, -1)) {
      if (typeof at[key] !== "object" || at[key] === null) at[key] = {};
      at = at[key] as Record<string, unknown>;
    }
    at[path.at(-1) as string] = value;
  }
  return copy;
}
