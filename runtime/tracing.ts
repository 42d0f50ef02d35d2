import { type Context, context, ROOT_CONTEXT, type Span, type Tracer, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import type { GatewayConfig } from "../config/schema.ts";

/** The spans of one gateway process; a no-op tracer when no endpoint is configured. */
export interface Tracing {
  readonly tracer: Tracer;
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry traces exported over OTLP/HTTP. One provider per gateway (never the global one),
 * so gateways sharing a process — tests — keep their spans apart; contexts are passed explicitly
 * (no async-hooks context manager on the hot path). A request keeps the sampling decision of its
 * caller's trace, else `sampleRatio` decides.
 */
export function startTracing(config: GatewayConfig["tracing"], role: string): Tracing {
  if (!config.endpoint) return { tracer: trace.getTracer("ai-gateway"), shutdown: async () => {} };
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": config.serviceName, "gateway.role": role }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: config.endpoint }), { scheduledDelayMillis: 1000 }),
    ],
  });
  return { tracer: provider.getTracer("ai-gateway"), shutdown: () => provider.shutdown() };
}

const propagator = new W3CTraceContextPropagator();
const getter = {
  keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
  get: (carrier: Record<string, unknown>, key: string) => {
    const value = carrier[key];
    return typeof value === "string" ? value : undefined;
  },
};
const setter = {
  set(carrier: Record<string, string>, key: string, value: string) {
    carrier[key] = value;
  },
};

/** The trace context a caller (HTTP headers) or the bus (an envelope's traceContext) carries. */
export function extractContext(carrier: Record<string, unknown>): Context {
  return propagator.extract(ROOT_CONTEXT, carrier, getter);
}

/** A span's context as W3C headers, to carry across the bus. */
export function injectContext(span: Span): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(context.active(), span), carrier, setter);
  return carrier;
}
