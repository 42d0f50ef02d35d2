import autocannon from "autocannon";
import { chatBody } from "../chat-call.ts";
import type { RunningTarget } from "./target.ts";

export interface ClosedLoopResult {
  /** Latency of each 200 answer, ms, from autocannon's own timing (not its histogram, which rounds to whole ms). */
  latencies: number[];
  /** Answers other than 200, and connection errors or timeouts. */
  failures: number;
  /** 200 answers per second over the phase. */
  answeredPerSecond: number;
}

/**
 * autocannon against the target's non-streaming chat endpoint: `connections` connections each
 * sending its next request when the last one answered, at most `rate` requests/s over all of
 * them if given (autocannon spaces each connection's requests), as fast as they answer if not.
 */
export async function closedLoop(
  target: RunningTarget,
  options: { connections: number; durationMs: number; rate?: number },
): Promise<ClosedLoopResult> {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${target.origin}/v1/chat/completions`,
        method: "POST",
        headers: { "content-type": "application/json", ...target.headers },
        body: chatBody(false),
        connections: options.connections,
        overallRate: options.rate,
        duration: options.durationMs / 1000,
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on("response", (_client, status, _bytes, responseTime) => {
      if (status === 200) latencies.push(responseTime);
    });
  });
  return {
    latencies,
    failures: result.non2xx + result.errors,
    answeredPerSecond: latencies.length / result.duration,
  };
}
