import type { Pool } from "undici";

/** The key the benchmarks' upstream emulator takes, and the key their gateways take. */
export const benchProviderKey = "sk-bench-0123456789";
export const benchGatewayKey = "bench-key-0123456789";

/** The model every benchmark call asks for; the emulator answers any name. */
export const benchModel = "bench-model";

/** The one chat request of the latency benchmarks: short question, short answer. */
export const chatBody = (stream: boolean) =>
  JSON.stringify({
    model: benchModel,
    stream,
    messages: [{ role: "user", content: "What is the capital of France?" }],
    max_tokens: 16,
  });

/**
 * One chat call to `pool`'s /v1/chat/completions with these headers; the latency from
 * `scheduledAt` of the whole answer, or for a stream of its first content chunk. A status other
 * than 200 throws with the start of the body, so a failing target says why.
 */
export async function timedChatCall(
  pool: Pool,
  headers: Record<string, string>,
  stream: boolean,
  scheduledAt: number,
): Promise<number> {
  const response = await pool.request({
    method: "POST",
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json", ...headers },
    body: chatBody(stream),
  });
  if (response.statusCode !== 200) {
    const text = await response.body.text();
    throw new Error(`HTTP ${response.statusCode} ${text.slice(0, 200)}`);
  }
  if (!stream) {
    await response.body.text();
    return performance.now() - scheduledAt;
  }
  let firstToken: number | undefined;
  let seen = "";
  for await (const chunk of response.body) {
    if (firstToken === undefined) {
      seen += chunk.toString();
      if (/"content":"[^"]/.test(seen)) firstToken = performance.now() - scheduledAt;
    }
  }
  if (firstToken === undefined) throw new Error(`no content in the stream: ${seen.slice(0, 200)}`);
  return firstToken;
}
