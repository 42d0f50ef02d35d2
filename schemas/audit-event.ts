import { type AvroInput, type AvroType, nullable } from "./avro-type.ts";

/**
 * One entry of the audit log: an admin request (made or refused) or a policy decision that
 * refused or changed a call (access, limits, budget, guardrail), or a budget alert. Published by
 * the process that decided, landed by the analytics sink in ClickHouse's `audit_log`.
 */
export const auditEventSchema = {
  type: "record",
  name: "AuditEvent",
  namespace: "gateway.v1",
  fields: [
    { name: "atMs", type: "long" },
    { name: "eventId", type: "string", doc: "UUIDv7" },
    {
      name: "actor",
      type: {
        type: "record",
        name: "AuditActor",
        fields: [
          {
            name: "kind",
            type: { type: "enum", name: "AuditActorKind", symbols: ["master", "key", "system"] },
            doc: "master: an admin key; key: an inference key (or none that authenticated); system: the gateway",
          },
          { name: "keyId", type: nullable("string"), default: null },
          { name: "team", type: nullable("string"), default: null },
        ],
      },
    },
    { name: "action", type: "string", doc: "e.g. key.create, request.budget, guardrail.redact" },
    { name: "target", type: "string", doc: "the key, team or request acted on" },
    {
      name: "outcome",
      type: { type: "enum", name: "AuditOutcome", symbols: ["allowed", "denied", "failed"] },
    },
    { name: "reason", type: "string", default: "" },
    {
      name: "sourceIp",
      type: "string",
      default: "",
      doc: "the socket's address (forwarding headers are not trusted)",
    },
    { name: "userAgent", type: "string", default: "" },
    { name: "requestId", type: nullable("string"), default: null },
    { name: "details", type: { type: "map", values: "string" }, default: {} },
  ],
} as const;

export type AuditEvent = AvroType<typeof auditEventSchema>;
export type AuditEventInput = AvroInput<typeof auditEventSchema>;
