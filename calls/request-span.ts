import { type Span, SpanStatusCode } from "@opentelemetry/api";
import type { RequestEventInput } from "../schemas/request-event.ts";

/** Ends a request's span with what its analytics event says: who answered, usage, cost, how it ended. */
export function endRequestSpan(span: Span, event: RequestEventInput): void {
  span.setAttributes({
    "gateway.request_id": event.requestId,
    "gen_ai.request.model": event.modelRequested,
    "gen_ai.provider.name": event.provider ?? "",
    "gen_ai.response.model": event.providerModel ?? "",
    "gen_ai.usage.input_tokens": event.usage?.inputTokens ?? 0,
    "gen_ai.usage.output_tokens": event.usage?.outputTokens ?? 0,
    "gateway.cache": event.cache ?? "",
    "gateway.outcome": event.outcome ?? "",
    "gateway.cost_usd": (event.costNanoUsd ?? 0) / 1e9,
    "http.response.status_code": event.status ?? 0,
  });
  if (event.outcome === "failed" || event.outcome === "rejected")
    span.setStatus({ code: SpanStatusCode.ERROR, message: event.errorCode ?? event.outcome });
  span.end(event.finishedAtMs ?? undefined);
}
