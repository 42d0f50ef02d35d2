import type { AvroInput, AvroType } from "./avro-type.ts";
import { replyEventSchema } from "./reply-event.ts";
import { requestEnvelopeSchema } from "./request-envelope.ts";

/**
 * What a worker publishes when it is done with a line of a batch job: the request it ran and
 * the reply events of the attempt that ran it, whole. Batch results travel on a durable channel
 * (a Kafka topic), not on the reply channel of a process that may be gone by then, so a result
 * outlives the restart of the batch coordinator that will store it. v2: the envelope and events
 * of v5 (countTokens, tokenCount), carried along.
 */
export const batchLineResultSchema = {
  type: "record",
  name: "BatchLineResult",
  namespace: "gateway.v1",
  fields: [
    { name: "envelope", type: requestEnvelopeSchema },
    { name: "attempt", type: "string", doc: "the attempt whose events these are" },
    {
      name: "events",
      type: { type: "array", items: replyEventSchema },
      doc: "in order, ending in completed or failed",
    },
  ],
} as const;

export type BatchLineResult = AvroType<typeof batchLineResultSchema>;
export type BatchLineResultInput = AvroInput<typeof batchLineResultSchema>;
