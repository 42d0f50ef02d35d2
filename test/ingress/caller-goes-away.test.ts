import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../../app/gateway.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import { eventually } from "../support/eventually.ts";
import { queryAnalytics, testConfig, testKey } from "../support/gateway.ts";
import { capturedLog } from "../support/log-lines.ts";

/**
 * A caller that closes its connection before the answer is the caller's doing, not a failure of
 * the gateway: the call is cancelled, recorded as cancelled (499), and nothing is logged as an
 * error — load generators stopping and users pressing stop do it all day.
 */
describe("a caller that goes away before its answer", () => {
  const { log, lines } = capturedLog();
  let config: GatewayConfig;
  let gateway: RunningGateway;

  beforeAll(async () => {
    config = testConfig("in-process", { analytics: { sink: { maxWaitMs: 100 } } });
    gateway = await startGateway(config, log, "all");
  });
  afterAll(() => gateway?.close());

  /** Sends a chat whose answer takes two seconds to begin and closes the connection after 200 ms. */
  async function abandon(tag: string, stream: boolean) {
    const abort = new AbortController();
    const sent = fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${testKey}`,
        "content-type": "application/json",
        "x-gateway-tags": `case=${tag}`,
      },
      body: JSON.stringify({
        model: "mock",
        stream,
        messages: [{ role: "user", content: "[mock:tokens=2] [mock:delay_ms=2000]" }],
      }),
      signal: abort.signal,
    });
    setTimeout(() => abort.abort(), 200);
    await expect(sent).rejects.toThrow(/abort/i);
  }

  it.each([
    ["whole", false],
    ["streamed", true],
  ])("is a cancelled call, not a gateway error, for a %s answer", async (tag, stream) => {
    await abandon(tag, stream);
    await eventually(async () => {
      const rows = await queryAnalytics<{ outcome: string; status: number; error_code: string }>(
        config,
        `SELECT outcome, status, error_code FROM requests FINAL WHERE tags['case'] = {tag:String}`,
        { tag },
      );
      expect(rows).toEqual([{ outcome: "cancelled", status: 499, error_code: "cancelled" }]);
    });
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
  });
});
