import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { eventually } from "../support/eventually.ts";
import { busKinds, startTestGateway, testConfig, testKey } from "../support/gateway.ts";
import { type ReceivedSpan, startOtlpReceiver } from "../support/otlp-receiver.ts";

const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
const callerSpan = "00f067aa0ba902b7";

/** One trace from the caller's span through the ingress, the bus and the worker to the provider call. */
describe.each(busKinds)("OpenTelemetry traces on the %s bus", (bus) => {
  let emulator: OpenAIEmulator;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let gateway: RunningGateway | undefined;

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: "k" });
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([emulator.close(), receiver.close()]);
  });

  it("joins the caller's trace: request → worker → provider call, with usage and cost", async () => {
    gateway = await startTestGateway(
      testConfig(bus, {
        tracing: { endpoint: receiver.url, serviceName: "gateway-under-test" },
        providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "k" } }],
        models: [
          {
            name: "traced",
            deployments: [{ provider: "p", model: "traced-model", price: { input: 1, output: 2 } }],
          },
        ],
      }),
    );
    const openai = new OpenAI({
      baseURL: `${gateway.url}/v1`,
      apiKey: testKey,
      maxRetries: 0,
      defaultHeaders: { traceparent: `00-${callerTrace}-${callerSpan}-01` },
    });
    const answer = await openai.chat.completions.create({
      model: "traced",
      messages: [{ role: "user", content: "follow me" }],
    });
    await gateway.close(); // flushes the spans
    gateway = undefined;

    let request: ReceivedSpan | undefined;
    let worker: ReceivedSpan | undefined;
    let call: ReceivedSpan | undefined;
    await eventually(() => {
      const ours = receiver.spans.filter((span) => span.traceId === callerTrace);
      request = ours.find((span) => span.name === "gateway.request");
      worker = ours.find((span) => span.name === "gateway.worker");
      call = ours.find((span) => span.name === "chat traced-model");
      expect([request, worker, call].every(Boolean)).toBe(true);
    });
    expect(request?.parentSpanId).toBe(callerSpan);
    expect(worker?.parentSpanId).toBe(request?.spanId);
    expect(call?.parentSpanId).toBe(worker?.spanId);
    expect(request?.service).toBe("gateway-under-test");
    expect(request?.attributes).toMatchObject({
      "gen_ai.request.model": "traced",
      "gen_ai.provider.name": "p",
      "gen_ai.usage.input_tokens": answer.usage?.prompt_tokens,
      "gen_ai.usage.output_tokens": answer.usage?.completion_tokens,
      "http.response.status_code": 200,
      "gateway.outcome": "completed",
    });
    const usage = answer.usage as OpenAI.CompletionUsage;
    // The provider was called with the call span's context: a self-hosted server joins the trace.
    expect(emulator.requests.at(-1)?.headers.traceparent).toBe(`00-${callerTrace}-${call?.spanId}-01`);
    expect(call?.attributes).toMatchObject({
      "gen_ai.request.model": "traced-model",
      "gateway.deployment": "p/traced-model",
      "gen_ai.usage.output_tokens": usage.completion_tokens,
      "gateway.cost_usd": (usage.prompt_tokens * 1_000 + usage.completion_tokens * 2_000) / 1e9, // nano-USD a token: 1,000 and 2,000
    });
  });
});
