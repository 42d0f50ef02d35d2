import { createServer } from "node:http";

/** A span as OTLP/JSON carries it (ids in hex), with its attributes flattened. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  status: { code?: number; message?: string };
  attributes: Record<string, string | number | boolean>;
  service: string;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}

/**
 * An OpenTelemetry collector's OTLP/HTTP traces endpoint, as the protocol specifies it (JSON
 * encoding): it keeps every span it receives. External infrastructure, emulated like the providers.
 */
export async function startOtlpReceiver(): Promise<{
  url: string;
  spans: ReceivedSpan[];
  close(): Promise<void>;
}> {
  const spans: ReceivedSpan[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        resourceSpans: Array<{
          resource: { attributes: OtlpAttribute[] };
          scopeSpans: Array<{
            spans: Array<Omit<ReceivedSpan, "attributes" | "service"> & { attributes: OtlpAttribute[] }>;
          }>;
        }>;
      };
      for (const resourceSpans of body.resourceSpans) {
        const service = String(flatten(resourceSpans.resource.attributes)["service.name"] ?? "");
        for (const scope of resourceSpans.scopeSpans)
          for (const span of scope.spans)
            spans.push({ ...span, attributes: flatten(span.attributes), service });
      }
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function flatten(attributes: OtlpAttribute[] = []): Record<string, string | number | boolean> {
  return Object.fromEntries(
    attributes.map(({ key, value }) => [
      key,
      value.stringValue ??
        (value.intValue !== undefined
          ? Number(value.intValue)
          : (value.doubleValue ?? value.boolValue ?? "")),
    ]),
  );
}
