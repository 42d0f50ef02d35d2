import { type ParseArgsConfig, parseArgs } from "node:util";
import type { IHeaders } from "kafkajs";
import type { DeadLetter } from "../../bus/kafka/dead-letter-archive.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import { cli, Failure, runGroup, UsageError } from "../cli-kit.ts";
import { printTable } from "../output.ts";

export const deadLettersUsage = `usage: ${cli} dead-letters <command> [options]

Kafka messages the gateway could not decode (not Avro of ours, or a schema version newer than
this release reads), kept whole in the topic <kafka.topicPrefix>dead-letters with where they came
from and why (docs/operations.md). Reads the Kafka of the gateway's configuration (GATEWAY_CONFIG,
else ./gateway.yaml with KAFKA_BROKERS).

commands:
  list [--source <topic>] [--json]
           every dead letter, oldest first: id, time, source topic/partition and offset, reason,
           size, when it was replayed, as a table (fitted to a terminal's width); --json: one
           JSON object a line
  show <id> [--value]
           one dead letter: source, reason, key, headers, value (base64); --value: only the value's
           bytes, raw, on stdout (e.g. | xxd)
  replay <id> ... [--force]
  replay --all [--source <topic>]
           put dead letters back on their source topics as first written (key, value and headers,
           without the dead-letter ones) once the gateway can read them, e.g. after an upgrade.
           Each is marked replayed: --all takes those not replayed yet; --force replays one again.
`;

/** `ai-gateway dead-letters …`: returns the exit code. */
export function deadLettersCommand(argv: string[]): Promise<number> {
  return runGroup("dead-letters", deadLettersUsage, { list, show, replay }, argv);
}

function parse<Options extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: Options) {
  const parsed = parseArgs({
    args: argv,
    options: { ...options, help: { type: "boolean" } },
    allowPositionals: true,
  });
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(deadLettersUsage);
    return undefined;
  }
  return parsed;
}

async function list(argv: string[]): Promise<number> {
  const parsed = parse(argv, { source: { type: "string" }, json: { type: "boolean" } });
  if (!parsed) return 0;
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument: ${parsed.positionals[0]}`);
  const letters = (await withKafka((kafka) => kafka.read())).filter(
    (letter) => parsed.values.source === undefined || letter.source.topic === parsed.values.source,
  );
  if (parsed.values.json) {
    for (const letter of letters) process.stdout.write(`${JSON.stringify(summary(letter))}\n`);
    return 0;
  }
  if (letters.length === 0) {
    process.stderr.write("no dead letters\n");
    return 0;
  }
  const rows = [
    ["id", "time", "source", "offset", "class", "size", "replayed", "reason"],
    ...letters.map((letter) => [
      letter.id,
      letter.time,
      `${letter.source.topic}/${letter.source.partition}`,
      letter.source.offset,
      letter.class,
      `${letter.value?.length ?? 0} B`,
      letter.replayed ?? "-",
      letter.reason,
    ]),
  ];
  printTable(rows);
  return 0;
}

async function show(argv: string[]): Promise<number> {
  const parsed = parse(argv, { value: { type: "boolean" } });
  if (!parsed) return 0;
  const [id, ...extra] = parsed.positionals;
  if (id === undefined || extra.length > 0)
    throw new UsageError(`expected <id>, got ${parsed.positionals.length} argument(s)`);
  const letter = find(await withKafka((kafka) => kafka.read()), id);
  if (parsed.values.value) {
    if (letter.value) process.stdout.write(letter.value);
    return 0;
  }
  process.stdout.write(
    `${JSON.stringify(
      {
        ...summary(letter),
        key: text(letter.key),
        headers: Object.fromEntries(
          Object.entries(letter.headers).map(([name, value]) => [name, headerValue(value)]),
        ),
        value: letter.value?.toString("base64") ?? null,
      },
      null,
      2,
    )}\n`,
  );
  return 0;
}

async function replay(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    all: { type: "boolean" },
    source: { type: "string" },
    force: { type: "boolean" },
  });
  if (!parsed) return 0;
  const { values, positionals: ids } = parsed;
  if (values.all ? ids.length > 0 : ids.length === 0)
    throw new UsageError("replay takes the ids of dead letters, or --all");
  if (values.source !== undefined && !values.all) throw new UsageError("--source goes with --all");
  const replayed = await withKafka(async (kafka) => {
    const letters = await kafka.read();
    const chosen = values.all
      ? letters.filter(
          (letter) =>
            letter.replayed === null &&
            (values.source === undefined || letter.source.topic === values.source),
        )
      : ids.map((id) => find(letters, id));
    const again = chosen.filter((letter) => letter.replayed !== null);
    if (again.length > 0 && !values.force)
      throw new Failure(
        `already replayed: ${again.map((letter) => `${letter.id} (${letter.replayed})`).join(", ")}; --force replays again`,
      );
    for (const letter of chosen) {
      await kafka.replay(letter);
      process.stdout.write(`${letter.id} → ${letter.source.topic}\n`);
    }
    return chosen.length;
  });
  process.stdout.write(`replayed ${replayed} dead letter${replayed === 1 ? "" : "s"}\n`);
  return 0;
}

/** What `list --json` prints of a letter. */
function summary(letter: DeadLetter) {
  return {
    id: letter.id,
    time: letter.time,
    source: letter.source,
    consumer: letter.consumer,
    class: letter.class,
    reason: letter.reason,
    size: letter.value?.length ?? 0,
    replayed: letter.replayed,
  };
}

function find(letters: DeadLetter[], id: string): DeadLetter {
  const letter = letters.find((candidate) => candidate.id === id);
  if (!letter) throw new Failure(`no dead letter ${id}`);
  return letter;
}

/** Text when the bytes are UTF-8, else `base64:…`. */
function text(bytes: Buffer | null): string | null {
  if (bytes === null) return null;
  const decoded = bytes.toString("utf8");
  return Buffer.from(decoded, "utf8").equals(bytes) ? decoded : `base64:${bytes.toString("base64")}`;
}

function headerValue(value: IHeaders[string]): string | Array<string | null> | null {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map((item) => text(Buffer.from(item)));
  return text(Buffer.from(value));
}

interface DeadLetterKafka {
  read(): Promise<DeadLetter[]>;
  replay(letter: DeadLetter): Promise<void>;
}

/**
 * Runs `use` with the dead-letter topic of the gateway's configuration. Kafka's modules are
 * loaded here, when a dead-letters command runs, not by every command of the CLI.
 */
async function withKafka<T>(use: (kafka: DeadLetterKafka) => Promise<T>): Promise<T> {
  const [
    { ConfigError, loadConfig },
    { logLevel, Partitioners },
    { newKafka },
    archive,
    { deadLetterTopic },
  ] = await Promise.all([
    import("../../config/load.ts"),
    import("kafkajs"),
    import("../../runtime/kafkajs.ts"),
    import("../../bus/kafka/dead-letter-archive.ts"),
    import("../../bus/kafka/topics.ts"),
  ]);
  let config: GatewayConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new Failure(error.message);
    throw error;
  }
  const { brokers } = config.kafka;
  if (brokers.length === 0)
    throw new UsageError(
      "the configuration names no Kafka (kafka.brokers, KAFKA_BROKERS): dead letters are kept only on Kafka",
    );
  const topic = deadLetterTopic(config.kafka);
  // Failures come back as errors; kafkajs's own retries and warnings would only clutter a terminal.
  const kafka = newKafka({ clientId: `${config.kafka.clientId}-cli`, brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  let connected = false;
  try {
    return await use({
      read: () => archive.readDeadLetters(kafka, topic),
      async replay(letter) {
        if (!connected) await producer.connect();
        connected = true;
        await archive.replayDeadLetter(producer, topic, letter);
      },
    });
  } catch (error) {
    if (error instanceof UsageError || error instanceof Failure) throw error;
    throw new Failure(`Kafka at ${brokers.join(",")}, topic ${topic}: ${(error as Error).message}`);
  } finally {
    if (connected) await producer.disconnect();
  }
}
