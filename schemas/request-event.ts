import { type AvroInput, type AvroType, nullable } from "./avro-type.ts";
import { usageSchema } from "./reply-event.ts";
import { priorities } from "./request-envelope.ts";

/**
 * A request as its caller saw it, recorded by the ingress holding the client: once when it is
 * handed to the workers (`received`, so requests in flight or lost with their ingress are
 * visible), and once when the caller has its answer, error or went away (`finished`). The provider
 * calls it took are AttemptEvents. The analytics sink lands both in ClickHouse (analytics/).
 */
export const requestEventSchema = {
  type: "record",
  name: "RequestEvent",
  namespace: "gateway.v1",
  fields: [
    { name: "requestId", type: "string" },
    { name: "stage", type: { type: "enum", name: "RequestStage", symbols: ["received", "finished"] } },
    { name: "ingressId", type: "string" },
    { name: "receivedAtMs", type: "long" },
    {
      name: "firstTokenAtMs",
      type: nullable("long"),
      default: null,
      doc: "first content sent to the caller",
    },
    { name: "finishedAtMs", type: nullable("long"), default: null },
    { name: "priority", type: { type: "enum", name: "Priority", symbols: priorities } },
    { name: "inboundApi", type: "string" },
    { name: "stream", type: "boolean" },
    { name: "keyId", type: "string" },
    { name: "team", type: nullable("string"), default: null },
    { name: "user", type: nullable("string"), default: null },
    { name: "tags", type: { type: "map", values: "string" }, default: {} },
    { name: "modelRequested", type: "string" },
    { name: "provider", type: "string", default: "", doc: "the provider account that answered" },
    {
      name: "providerModel",
      type: "string",
      default: "",
      doc: "the model that answered, as the provider names it",
    },
    {
      name: "cache",
      type: "string",
      default: "",
      doc: "what the answer cache did (x-gateway-cache); empty: the model is not cached",
    },
    {
      name: "outcome",
      type: {
        type: "enum",
        name: "RequestOutcome",
        symbols: ["completed", "failed", "cancelled", "rejected", "unknown"],
        default: "unknown",
      },
      default: "unknown",
      doc: "rejected: refused at the ingress (invalid, over a limit) before any worker saw it",
    },
    { name: "status", type: "int", default: 0, doc: "the HTTP status the caller got" },
    { name: "errorCode", type: nullable("string"), default: null },
    { name: "usage", type: nullable(usageSchema), default: null },
    { name: "costNanoUsd", type: "long", default: 0, doc: "what its provider calls cost, in 1e-9 USD" },
    { name: "priced", type: "boolean", default: false },
    {
      name: "costSavedNanoUsd",
      type: "long",
      default: 0,
      doc: "a cache hit: what the kept answer cost to make",
    },
    { name: "requestBytes", type: "int", default: 0 },
    {
      name: "responseBytes",
      type: "int",
      default: 0,
      doc: "what the caller was sent, headers included over HTTP",
    },
    {
      name: "prompt",
      type: nullable("string"),
      default: null,
      doc: "the messages, only when the operator stores content (analytics.content), already redacted",
    },
    { name: "completion", type: nullable("string"), default: null, doc: "the answer's text, as `prompt`" },
    {
      name: "batchId",
      type: nullable("string"),
      default: null,
      doc: "the batch job the request is a line of (v2)",
    },
  ],
} as const;

export type RequestEvent = AvroType<typeof requestEventSchema>;
export type RequestEventInput = AvroInput<typeof requestEventSchema>;
