import { type AvroInput, type AvroType, nullable } from "./avro-type.ts";
import { priorities } from "./request-envelope.ts";

// Avro names a record type once per schema: the key's and the team's budget and limits are
// the same shape under two names.

/**
 * Spending caps in USD, each over its own period: the UTC day, the UTC month, and all time.
 * `softLimitPercent` of any cap crossed raises one alert (an event and the webhook).
 */
const budgetSchema = <const Name extends string>(name: Name) =>
  ({
    type: "record",
    name,
    fields: [
      { name: "dailyUsd", type: nullable("double"), default: null },
      { name: "monthlyUsd", type: nullable("double"), default: null },
      { name: "totalUsd", type: nullable("double"), default: null },
      { name: "softLimitPercent", type: nullable("int"), default: null },
    ],
  }) as const;

/** Requests and tokens per minute, counted across every gateway process. */
const rateLimitsSchema = <const Name extends string>(name: Name) =>
  ({
    type: "record",
    name,
    fields: [
      { name: "requestsPerMinute", type: nullable("int"), default: null },
      { name: "tokensPerMinute", type: nullable("int"), default: null },
    ],
  }) as const;

/** Bounds on what one request or one key may consume at once (over the gateway's own defaults). */
const consumptionLimitsSchema = {
  type: "record",
  name: "ConsumptionLimits",
  fields: [
    { name: "maxTokens", type: nullable("int"), default: null, doc: "largest max_tokens a request may ask" },
    { name: "maxN", type: nullable("int"), default: null, doc: "largest n (choices) a request may ask" },
    { name: "maxConcurrentStreams", type: nullable("int"), default: null },
  ],
} as const;

/** A team: the owner of keys, with its own budget, limits and model access. */
export const teamRecordSchema = {
  type: "record",
  name: "TeamRecord",
  fields: [
    { name: "id", type: "string" },
    { name: "name", type: "string" },
    {
      name: "models",
      type: nullable({ type: "array", items: "string" }),
      default: null,
      doc: "model names (a trailing * matches a prefix) its keys may call; null: all",
    },
    { name: "budget", type: nullable(budgetSchema("TeamBudget")), default: null },
    { name: "rateLimits", type: nullable(rateLimitsSchema("TeamRateLimits")), default: null },
    { name: "tags", type: { type: "map", values: "string" }, default: {} },
    { name: "metadata", type: { type: "map", values: "string" }, default: {} },
    { name: "createdAtMs", type: "long" },
    { name: "updatedAtMs", type: "long" },
    { name: "disabled", type: "boolean", default: false, doc: "its keys are refused while set" },
  ],
} as const;

/** A virtual key: only its SHA-256 is kept; the key itself is shown once, when made or rotated. */
export const keyRecordSchema = {
  type: "record",
  name: "KeyRecord",
  fields: [
    { name: "id", type: "string", doc: "non-secret id, as in analytics (keyId)" },
    { name: "hash", type: "string", doc: "SHA-256 of the key, hex" },
    { name: "prefix", type: "string", doc: "the key's first characters, to recognise it in lists" },
    { name: "name", type: nullable("string"), default: null },
    { name: "team", type: "string" },
    { name: "user", type: nullable("string"), default: null },
    {
      name: "models",
      type: nullable({ type: "array", items: "string" }),
      default: null,
      doc: "model names (a trailing * matches a prefix) it may call, within its team's; null: all",
    },
    {
      name: "apis",
      type: nullable({ type: "array", items: "string" }),
      default: null,
      doc: "route groups it may use (chat, messages, responses, embeddings, batches); null: all",
    },
    {
      name: "priority",
      type: nullable({ type: "enum", name: "Priority", symbols: priorities }),
      default: null,
    },
    { name: "tags", type: { type: "map", values: "string" }, default: {} },
    { name: "metadata", type: { type: "map", values: "string" }, default: {} },
    { name: "budget", type: nullable(budgetSchema("KeyBudget")), default: null },
    { name: "rateLimits", type: nullable(rateLimitsSchema("KeyRateLimits")), default: null },
    { name: "limits", type: nullable(consumptionLimitsSchema), default: null },
    { name: "expiresAtMs", type: nullable("long"), default: null },
    { name: "revokedAtMs", type: nullable("long"), default: null },
    {
      name: "previousHash",
      type: nullable("string"),
      default: null,
      doc: "after a rotation with a grace period: the old key's hash, accepted until previousHashExpiresAtMs",
    },
    { name: "previousHashExpiresAtMs", type: nullable("long"), default: null },
    { name: "createdAtMs", type: "long" },
    { name: "updatedAtMs", type: "long" },
  ],
} as const;

/** One entry of the governance log (a compacted Kafka topic keyed by `kind:id`): a key or a team. */
export const governanceRecordSchema = {
  type: "record",
  name: "GovernanceRecord",
  namespace: "gateway.v1",
  fields: [
    { name: "key", type: nullable(keyRecordSchema), default: null },
    { name: "team", type: nullable(teamRecordSchema), default: null },
  ],
} as const;

export type GovernanceRecord = AvroType<typeof governanceRecordSchema>;
export type KeyRecord = AvroType<typeof keyRecordSchema>;
export type TeamRecord = AvroType<typeof teamRecordSchema>;
export type KeyRecordInput = AvroInput<typeof keyRecordSchema>;
export type TeamRecordInput = AvroInput<typeof teamRecordSchema>;
export type Budget = AvroType<ReturnType<typeof budgetSchema>>;
export type RateLimits = AvroType<ReturnType<typeof rateLimitsSchema>>;
export type ConsumptionLimits = AvroType<typeof consumptionLimitsSchema>;
