import { createRequire } from "node:module";
import { logLevel as KafkaLogLevel, type LogEntry } from "kafkajs";

export type LogLevel = "error" | "warn" | "info" | "debug";

/**
 * Broker errors that only mean a consumer group is changing hands: a member joined or left (a
 * rebalance), a member was fenced after a pause and must rejoin, or the group's coordinator is
 * moving or loading. kafkajs answers each by rejoining or retrying, so for the gateway they are
 * routine, however loudly kafkajs reports them.
 */
const groupChangeTypes = new Set([
  "REBALANCE_IN_PROGRESS",
  "UNKNOWN_MEMBER_ID",
  "ILLEGAL_GENERATION",
  "NOT_COORDINATOR_FOR_GROUP",
  "GROUP_COORDINATOR_NOT_AVAILABLE",
  "GROUP_LOAD_IN_PROGRESS",
]);

/**
 * Broker errors that only mean a partition's leader is being elected or has moved: every start of
 * a broker (cluster up, a restart) answers the first requests for a new topic so. kafkajs reads
 * the metadata again and retries.
 */
const leaderMovingTypes = new Set(["LEADER_NOT_AVAILABLE", "NOT_LEADER_FOR_PARTITION"]);

// kafkajs's log entries carry the broker error's message, not its type: its own table maps one to the other.
const require = createRequire(import.meta.url);
const { errorCodes } = require("kafkajs/src/protocol/error.js") as {
  errorCodes: Array<{ type: string; message: string }>;
};
const messagesOf = (types: Set<string>) =>
  new Set(errorCodes.filter(({ type }) => types.has(type)).map(({ message }) => message));
const groupChangeMessages = messagesOf(groupChangeTypes);
const routineMessages = new Set([...groupChangeMessages, ...messagesOf(leaderMovingTypes)]);

/** True for an error (or an error caused by one) that only says the group is changing hands. */
export function isGroupChange(error: unknown): boolean {
  for (
    let cause = error as { type?: unknown; cause?: unknown } | undefined;
    cause;
    cause = cause.cause as never
  ) {
    if (typeof cause.type === "string" && groupChangeTypes.has(cause.type)) return true;
  }
  return false;
}

/**
 * The level a kafkajs log line deserves in the gateway's log. kafkajs logs at `error` every broker
 * error response it gets, before deciding what to do with it — about forty lines per worker each
 * time a worker joins or leaves. Here:
 * - a rebalance, a rejoin, a coordinator moving, a partition's leader being elected or moving:
 *   `info` — routine, and kafkajs recovers by itself;
 * - a consumer that kafkajs restarts after such an error, a member the group dropped (it went
 *   silent longer than the session timeout) rejoining: `warn` — recovered, but worth knowing;
 * - topic creation errors: `debug` — kafkajs ignores "already exists" (two processes creating the
 *   gateway's topics at once), and any other failure fails ensureTopics, which says why;
 * - a refused connection and each retry of it: `debug` — kafkajs logs both, with a stack, at every
 *   attempt; what the retries come to is said once by whoever waited (a start that fails names
 *   the brokers and KAFKA_BROKERS; a send that fails fails its request; a consumer that gives up
 *   logs its crash);
 * - everything else at kafkajs's own level.
 */
export function gatewayLevel(level: KafkaLogLevel, entry: LogEntry["log"]): LogLevel {
  const { message } = entry;
  const error = typeof entry.error === "string" ? entry.error : undefined;
  if (message === "The group is rebalancing, re-joining") return "info";
  if (message.startsWith("Response ") && error !== undefined && routineMessages.has(error)) return "info";
  if (message.startsWith("Response CreateTopics") && error === "Topic creation errors") return "debug";
  if (message.startsWith("Connection error: ") || message.startsWith("Failed to connect to seed broker"))
    return "debug";
  if (message.startsWith("Restarting the consumer")) return "warn";
  if (message.startsWith("The coordinator is not aware of this member")) return "warn";
  if (message.startsWith("Crash: ") && [...groupChangeMessages].some((known) => message.endsWith(known)))
    return "warn";
  if (level <= KafkaLogLevel.ERROR) return "error";
  if (level === KafkaLogLevel.WARN) return "warn";
  if (level === KafkaLogLevel.INFO) return "info";
  return "debug";
}
