import { ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import type { AttemptEventInput } from "../schemas/attempt-event.ts";
import type { Candidate } from "./routing/plan.ts";

/** A provider call's span, child of the worker's span, named as OpenTelemetry's GenAI conventions name it. */
export function startCallSpan(tracer: Tracer, parent: Span, candidate: Candidate): Span {
  const { deployment } = candidate;
  return tracer.startSpan(
    `chat ${deployment.model}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": deployment.provider,
        "gen_ai.request.model": deployment.model,
        "gateway.route": candidate.route.name,
        "gateway.deployment": deployment.name,
      },
    },
    trace.setSpan(ROOT_CONTEXT, parent),
  );
}

/** Ends a call's span with what its analytics event says: usage, cost and how it ended. */
export function endCallSpan(span: Span, event: AttemptEventInput): void {
  span.setAttributes({
    "gen_ai.usage.input_tokens": event.usage.inputTokens,
    "gen_ai.usage.output_tokens": event.usage.outputTokens,
    "gateway.usage_estimated": event.usageEstimated,
    "gateway.cost_usd": (event.costNanoUsd ?? 0) / 1e9,
    "gateway.outcome": event.outcome,
  });
  if (event.outcome === "failed")
    span.setStatus({ code: SpanStatusCode.ERROR, message: event.errorCode ?? "failed" });
  span.end(event.finishedAtMs);
}
