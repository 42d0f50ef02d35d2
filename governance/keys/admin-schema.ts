import { type Static, Type as T, type TSchema } from "@sinclair/typebox";
import { priorities } from "../../schemas/request-envelope.ts";

/**
 * The admin API's request bodies for keys and teams, validated at the edge; the admin service
 * (admin.ts) takes their static types. `null` in an update clears a setting.
 */

const usd = (what: string) => T.Number({ exclusiveMinimum: 0, description: `USD ${what}` });
const budget = T.Object(
  {
    dailyUsd: T.Optional(usd("per UTC day")),
    monthlyUsd: T.Optional(usd("per UTC month")),
    totalUsd: T.Optional(usd("in all")),
    softLimitPercent: T.Optional(T.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);
const rateLimits = T.Object(
  {
    requestsPerMinute: T.Optional(T.Integer({ minimum: 1 })),
    tokensPerMinute: T.Optional(T.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
const limits = T.Object(
  {
    maxTokens: T.Optional(T.Integer({ minimum: 1 })),
    maxN: T.Optional(T.Integer({ minimum: 1 })),
    maxConcurrentStreams: T.Optional(T.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
/** Short printable strings only: ids, tags and metadata end up in logs, ClickHouse and headers. */
const label = T.String({ minLength: 1, maxLength: 128, pattern: "^[\\x20-\\x7e]+$" });
const stringMap = T.Record(T.String({ pattern: "^[a-zA-Z0-9_.:-]{1,64}$" }), T.String({ maxLength: 256 }), {
  maxProperties: 32,
});
const modelPatterns = T.Array(T.String({ minLength: 1, maxLength: 128, pattern: "^[^*]*\\*?$" }), {
  maxItems: 256,
  description: "model names; a trailing * matches every name with that prefix",
});
export const apiGroups = ["chat", "messages", "responses", "embeddings", "batches"] as const;
export type ApiGroup = (typeof apiGroups)[number];
/** What a key's `apis` may list: the API groups, and `dashboard`, never implied (see dashboardAllowed). */
const apis = T.Array(T.Union([...apiGroups, "dashboard"].map((group) => T.Literal(group))), {
  uniqueItems: true,
});
export const teamIdPattern = "^[a-z0-9][a-z0-9_-]{0,62}$";

/** Optional in a create; in an update, `null` clears it. */
const clearable = <S extends TSchema>(schema: S) => T.Optional(T.Union([schema, T.Null()]));

const teamSettings = {
  name: T.Optional(label),
  models: clearable(modelPatterns),
  budget: clearable(budget),
  rateLimits: clearable(rateLimits),
  tags: T.Optional(stringMap),
  metadata: T.Optional(stringMap),
};
export const newTeamBody = T.Object(
  { id: T.String({ pattern: teamIdPattern }), ...teamSettings },
  { additionalProperties: false },
);
export const teamChangesBody = T.Object(
  { ...teamSettings, disabled: T.Optional(T.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);

const keySettings = {
  name: clearable(label),
  user: clearable(label),
  models: clearable(modelPatterns),
  apis: clearable(apis),
  priority: clearable(T.Union(priorities.map((priority) => T.Literal(priority)))),
  tags: T.Optional(stringMap),
  metadata: T.Optional(stringMap),
  budget: clearable(budget),
  rateLimits: clearable(rateLimits),
  limits: clearable(limits),
  expiresAt: clearable(
    T.String({
      pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})$",
      description: "ISO 8601 time the key stops working, e.g. 2027-01-31T00:00:00Z",
    }),
  ),
};
export const newKeyBody = T.Object(
  { team: T.String({ pattern: teamIdPattern }), ...keySettings },
  { additionalProperties: false },
);
export const keyChangesBody = T.Object(keySettings, { additionalProperties: false, minProperties: 1 });
export const rotateBody = T.Object(
  {
    gracePeriodSeconds: T.Optional(
      T.Integer({ minimum: 0, maximum: 30 * 86_400, description: "how long the old key keeps working" }),
    ),
  },
  { additionalProperties: false },
);

export type NewTeam = Static<typeof newTeamBody>;
export type TeamChanges = Static<typeof teamChangesBody>;
export type NewKey = Static<typeof newKeyBody>;
export type KeyChanges = Static<typeof keyChangesBody>;
