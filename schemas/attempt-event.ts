import { type AvroInput, type AvroType, nullable } from "./avro-type.ts";
import { usageSchema } from "./reply-event.ts";
import { priorities } from "./request-envelope.ts";

/**
 * What a worker records when it is done with one attempt at a request: who asked, what ran where,
 * how it ended, how long each part took and the tokens it used. The analytics sink lands each in
 * ClickHouse (analytics/).
 */
export const attemptEventSchema = {
  type: "record",
  name: "AttemptEvent",
  namespace: "gateway.v1",
  fields: [
    { name: "requestId", type: "string" },
    { name: "attempt", type: "string" },
    { name: "workerId", type: "string" },
    { name: "receivedAtMs", type: "long", doc: "when the ingress received the request" },
    { name: "startedAtMs", type: "long", doc: "when the worker started it" },
    { name: "firstTokenAtMs", type: nullable("long"), default: null },
    { name: "finishedAtMs", type: "long" },
    { name: "priority", type: { type: "enum", name: "Priority", symbols: priorities } },
    { name: "inboundApi", type: "string" },
    { name: "stream", type: "boolean" },
    { name: "keyId", type: "string" },
    { name: "user", type: nullable("string"), default: null },
    { name: "tags", type: { type: "map", values: "string" }, default: {} },
    { name: "modelRequested", type: "string" },
    {
      name: "route",
      type: "string",
      default: "",
      doc: "the model route that led to this call: the one asked, or a fallback (v2)",
    },
    { name: "deployment", type: "string", default: "", doc: "the deployment called (v2)" },
    {
      name: "cache",
      type: "string",
      default: "",
      doc: "the answer cache: hit (answered from it, no provider called) | miss | refresh | bypass | unavailable; empty: not cached (v3)",
    },
    { name: "provider", type: "string", default: "" },
    { name: "providerModel", type: "string", default: "" },
    {
      name: "outcome",
      type: { type: "enum", name: "Outcome", symbols: ["completed", "failed", "cancelled"] },
    },
    { name: "errorCode", type: nullable("string"), default: null },
    { name: "status", type: "int", doc: "HTTP status the caller got (or would have got)" },
    { name: "usage", type: usageSchema },
    {
      name: "usageEstimated",
      type: "boolean",
      doc: "the provider reported no usage (e.g. a cancelled stream): counted by the gateway",
    },
    {
      name: "costNanoUsd",
      type: "long",
      default: 0,
      doc: "what the call cost, in 1e-9 USD, at the price table when it ended (v4)",
    },
    {
      name: "priced",
      type: "boolean",
      default: false,
      doc: "whether the deployment had a price: an unpriced call's cost 0 is unknown, not free (v4)",
    },
    {
      name: "costSavedNanoUsd",
      type: "long",
      default: 0,
      doc: "a cache hit: what the kept answer cost when a provider made it, paid again without the cache (v4)",
    },
    {
      name: "batchId",
      type: nullable("string"),
      default: null,
      doc: "the batch job the request is a line of (v5)",
    },
  ],
} as const;

export type AttemptEvent = AvroType<typeof attemptEventSchema>;
export type AttemptEventInput = AvroInput<typeof attemptEventSchema>;
