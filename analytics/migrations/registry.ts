import { attempts } from "./0001-attempts.ts";
import { attemptRoutes } from "./0002-attempt-routes.ts";
import { attemptCache } from "./0003-attempt-cache.ts";
import { attemptCost } from "./0004-attempt-cost.ts";
import { attemptSource } from "./0005-attempt-source.ts";
import { requests } from "./0006-requests.ts";
import { requestContent } from "./0007-request-content.ts";
import { outputSpeed } from "./0008-output-speed.ts";
import { responseBytes } from "./0009-response-bytes.ts";
import { batchId } from "./0010-batch-id.ts";
import { auditLog } from "./0011-audit-log.ts";
import { readerUser } from "./0012-reader-user.ts";
import { requestIdIndex } from "./0013-request-id-index.ts";
import { attemptTimeIndex } from "./0014-attempt-time-index.ts";
import type { Migration } from "./migration.ts";

/** Every migration, in the order they apply. */
export const migrations: readonly Migration[] = [
  attempts,
  attemptRoutes,
  attemptCache,
  attemptCost,
  attemptSource,
  requests,
  requestContent,
  outputSpeed,
  responseBytes,
  batchId,
  auditLog,
  readerUser,
  requestIdIndex,
  attemptTimeIndex,
];
