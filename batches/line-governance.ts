import type { RouteTable } from "../config/routes.ts";
import { admitCall, callHoldNanoUsd, type Governance, settleCall } from "../governance/admission.ts";
import type { KeyStore } from "../governance/contracts.ts";
import { grantedCaller, virtualCaller } from "../ingress/auth.ts";
import { GatewayError } from "../schemas/errors.ts";
import type { RequestEnvelope } from "../schemas/request-envelope.ts";
import type { RequestEventInput } from "../schemas/request-event.ts";
import { estimatedPromptTokens } from "../workers/request-size.ts";
import type { InputLine } from "./input.ts";

/** What batch lines are governed by: the policy of the virtual key that made the batch. */
export interface LineGovernance {
  governance: Governance;
  keys: KeyStore;
}

/**
 * Admits one line of a virtual key's batch as a call of its own, just before it is published: the
 * key must still be valid and may call the line's model, and the line's most possible cost is
 * held against the key's and team's budgets until the batch's deadline. The envelope gets the
 * key's team, tags and max_tokens bound. Returns the refusal, if any (the line fails with it).
 */
export async function admitLine(
  lines: LineGovernance,
  line: InputLine,
  envelope: RequestEnvelope,
): Promise<GatewayError | undefined> {
  const key = lines.keys.key(envelope.caller.keyId);
  if (!key) return undefined; // a key from the configuration: no policy beyond the gateway's
  const model = line.parsed.model;
  try {
    const caller = virtualCaller(key, lines.keys, Date.now());
    const admission = await admitCall(lines.governance, caller, {
      requestId: envelope.id,
      group: line.api.group,
      model,
      route: lines.governance.routes.resolve(model) as NonNullable<ReturnType<RouteTable["resolve"]>>,
      stream: false,
      maxTokens: envelope.chat?.maxTokens ?? null,
      n: envelope.chat?.n ?? 1,
      prompt: envelope,
      batch: { holdMs: Math.max(1000, envelope.deadlineMs - Date.now()) },
    });
    envelope.caller.team = caller.team ?? null;
    envelope.caller.tags = { ...envelope.caller.tags, ...caller.tags };
    if (envelope.chat && envelope.chat.maxTokens === null) envelope.chat.maxTokens = admission.maxTokens;
    return undefined;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
}

/** Settles a line's budget hold at its cost, wherever it was held (the hold is found by the line's request id). */
export function settleLine(lines: LineGovernance, envelope: RequestEnvelope, event: RequestEventInput): void {
  const key = lines.keys.key(envelope.caller.keyId);
  const team = key && lines.keys.team(key.team);
  if (!key || !team) return; // nothing was held, or its team is gone and the hold lapses
  const route = lines.governance.routes.resolve(envelope.chat?.model ?? envelope.embeddings?.model ?? "");
  const promptTokens = estimatedPromptTokens(envelope);
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
