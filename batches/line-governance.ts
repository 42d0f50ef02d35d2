import type { Route, RouteTable } from "../config/routes.ts";
import { callHoldNanoUsd, type Governance, settleCall } from "../governance/admission.ts";
import type { KeyStore } from "../governance/contracts.ts";
import { type Caller, grantedCaller, virtualCaller } from "../governance/keys/keyring.ts";
import { GatewayError } from "../schemas/errors.ts";
import { countPromptTokens } from "../schemas/prompt-tokens.ts";
import type { RequestEnvelope } from "../schemas/request-envelope.ts";
import type { RequestEventInput } from "../schemas/request-event.ts";

/** What batch lines are governed by: the policy of the virtual key that made the batch. */
export interface LineGovernance {
  governance: Governance;
  keys: KeyStore;
}

/**
 * Who a line calls as: the virtual key that made the batch, if it is still valid now (a revoked or
 * expired key, or a disabled team, refuses the line), else the configured key it names.
 */
export function lineCaller(lines: LineGovernance, envelope: RequestEnvelope): Caller {
  const key = lines.keys.key(envelope.caller.keyId);
  return key ? virtualCaller(key, lines.keys, Date.now()) : { keyId: envelope.caller.keyId };
}

/** The route a line's model names now (its file was checked against the routes when the batch was made). */
export function routeOf(routes: RouteTable, model: string): Route {
  const route = routes.resolve(model);
  if (!route)
    throw new GatewayError("not_found", `the model ${model} is no longer served by this gateway`, {
      param: "model",
    });
  return route;
}

/**
 * Settles a line's budget hold at its cost, wherever it was held (the hold is found by the line's
 * request id); its prompt counted as its admission counted it.
 */
export async function settleLine(
  lines: LineGovernance,
  envelope: RequestEnvelope,
  event: RequestEventInput,
): Promise<void> {
  const key = lines.keys.key(envelope.caller.keyId);
  const team = key && lines.keys.team(key.team);
  if (!key || !team) return; // nothing was held, or its team is gone and the hold lapses
  const route = lines.governance.routes.resolve(envelope.chat?.model ?? envelope.embeddings?.model ?? "");
  const promptTokens = (await countPromptTokens(envelope, route?.deployments[0]?.tokenizer)).tokens;
  const held =
    (route &&
      callHoldNanoUsd(
        lines.governance,
        { route, group: envelope.embeddings ? "embeddings" : "chat", n: envelope.chat?.n ?? 1, promptTokens },
        envelope.chat?.maxTokens ?? null,
      )) ??
    0;
  settleCall(
    lines.governance,
    grantedCaller(key, team),
    { requestId: envelope.id, promptTokens, batch: { holdMs: 0 } },
    held,
    event,
  );
}
