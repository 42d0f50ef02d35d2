import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { validateBody } from "../../calls/apis/validate.ts";
import { spendInUsd } from "../../governance/budgets/spend-in-usd.ts";
import type { BudgetLedger } from "../../governance/contracts.ts";
import type { KeyAdmin } from "../../governance/keys/admin.ts";
import {
  keyChangesBody,
  newKeyBody,
  newTeamBody,
  rotateBody,
  teamChangesBody,
  teamIdPattern,
} from "../../governance/keys/admin-schema.ts";
import { GatewayError } from "../../schemas/errors.ts";

export interface AdminKeyRoutesOptions {
  admin: KeyAdmin;
  ledger: BudgetLedger;
}

const idPattern = new RegExp(teamIdPattern);

declare module "fastify" {
  interface FastifyRequest {
    /** What an admin request did, named for the audit log (the admin scope records every request). */
    audit?: { action: string; target: string };
  }
}

/**
 * Keys and teams (docs/governance.md), under the admin scope's master-key check:
 * /admin/teams[/:id] and /admin/keys[/:id] (POST create, GET, PATCH update, DELETE a team),
 * POST /admin/keys/:id/rotate and /revoke. A new or rotated key is in the answer once, never again.
 */
export const adminKeyRoutes: FastifyPluginAsync<AdminKeyRoutesOptions> = async (app, { admin, ledger }) => {
  const idOf = (request: FastifyRequest) => {
    const { id } = request.params as { id: string };
    // Ids reach logs and the audit table: anything but an id's characters is refused before use.
    if (!idPattern.test(id))
      throw new GatewayError("not_found", `no such id: ${JSON.stringify(id).slice(0, 80)}`, { status: 404 });
    return id;
  };
  app.post("/admin/teams", async (request, reply) => {
    const team = await admin.createTeam(validateBody(newTeamBody, request.body));
    request.audit = { action: "team.create", target: team.id };
    return reply.code(201).send(team);
  });
  app.get("/admin/teams", async () => ({ object: "list", data: admin.teams() }));
  app.get("/admin/teams/:id", async (request) => {
    const id = idOf(request);
    return { ...admin.team(id), spend: await spendInUsd(ledger, "team", id, id) };
  });
  app.patch("/admin/teams/:id", async (request) => {
    const team = await admin.updateTeam(idOf(request), validateBody(teamChangesBody, request.body));
    request.audit = { action: "team.update", target: team.id };
    return team;
  });
  app.delete("/admin/teams/:id", async (request) => {
    const id = idOf(request);
    await admin.deleteTeam(id);
    request.audit = { action: "team.delete", target: id };
    return { id, deleted: true };
  });

  app.post("/admin/keys", async (request, reply) => {
    const issued = await admin.createKey(validateBody(newKeyBody, request.body));
    request.audit = { action: "key.create", target: issued.record.id };
    return reply.code(201).send({ key: issued.key, ...issued.record });
  });
  app.get("/admin/keys", async (request) => {
    const { team } = (request.query ?? {}) as { team?: string };
    return { object: "list", data: admin.keys(team) };
  });
  app.get("/admin/keys/:id", async (request) => {
    const key = admin.key(idOf(request));
    return { ...key, spend: await spendInUsd(ledger, "key", key.id, key.team) };
  });
  app.patch("/admin/keys/:id", async (request) => {
    const key = await admin.updateKey(idOf(request), validateBody(keyChangesBody, request.body));
    request.audit = { action: "key.update", target: key.id };
    return key;
  });
  app.post("/admin/keys/:id/rotate", async (request) => {
    const { gracePeriodSeconds = 0 } = validateBody(rotateBody, request.body ?? {});
    const issued = await admin.rotateKey(idOf(request), gracePeriodSeconds * 1000);
    request.audit = { action: "key.rotate", target: issued.record.id };
    return { key: issued.key, ...issued.record };
  });
  app.post("/admin/keys/:id/revoke", async (request) => {
    const key = await admin.revokeKey(idOf(request));
    request.audit = { action: "key.revoke", target: key.id };
    return key;
  });
};
