import { attemptEventSchema } from "./attempt-event.ts";
import { auditEventSchema } from "./audit-event.ts";
import { batchLineResultSchema } from "./batch-line-result.ts";
import { createCodec } from "./codec.ts";
import { governanceRecordSchema } from "./governance-record.ts";
import { replyEventSchema } from "./reply-event.ts";
import { requestEnvelopeSchema } from "./request-envelope.ts";
import { requestEventSchema } from "./request-event.ts";

/** The codecs of every message that crosses a process boundary, at the version this build writes. */
export const requestEnvelopeCodec = createCodec(requestEnvelopeSchema, 5);
export const replyEventCodec = createCodec(replyEventSchema, 5);

export const attemptEventCodec = createCodec(attemptEventSchema, 5);
export const requestEventCodec = createCodec(requestEventSchema, 2);
export const batchLineResultCodec = createCodec(batchLineResultSchema, 2);
export const governanceRecordCodec = createCodec(governanceRecordSchema, 1);
export const auditEventCodec = createCodec(auditEventSchema, 1);

export const codecs = [
  requestEnvelopeCodec,
  replyEventCodec,
  attemptEventCodec,
  requestEventCodec,
  batchLineResultCodec,
  governanceRecordCodec,
  auditEventCodec,
] as const;
