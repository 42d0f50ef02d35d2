import OpenAI from "openai";

/** What one request of the load ended as, from its client's side. */
export interface Outcome {
  index: number;
  prompt: string;
  stream: boolean;
  /** The text the client was given (for a failed stream: what came before the error). */
  text: string;
  /** The answer's request id, when the client got one. */
  id?: string;
  error?: { status?: number; type: string; message: string };
}

/**
 * Steady load on an ingress, as an application would make it: the official SDK, streamed and
 * whole answers alternating, each request tagged `n=<index>` (analytics rows are found by it) and
 * with a prompt of its own (the provider emulator's bills are found by it).
 */
export function startLoad(baseUrl: string, apiKey: string, perSecond: number) {
  const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey, maxRetries: 0, timeout: 180_000 });
  const outcomes: Array<Promise<Outcome>> = [];
  const timer = setInterval(() => outcomes.push(oneRequest(client, outcomes.length)), 1000 / perSecond);
  return {
    get sent() {
      return outcomes.length;
    },
    /** Stops sending and waits for every request sent to end. */
    async stop(): Promise<Outcome[]> {
      clearInterval(timer);
      return Promise.all(outcomes);
    },
  };
}

/** The prompt of request `index`: its own words, 5 to 29 of them. */
export function promptOf(index: number): string {
  return `request ${index} ${Array.from({ length: 3 + (index % 25) }, (_, word) => `w${word}`).join(" ")}`;
}

async function oneRequest(client: OpenAI, index: number): Promise<Outcome> {
  const prompt = promptOf(index);
  const stream = index % 2 === 1;
  const outcome: Outcome = { index, prompt, stream, text: "" };
  const body = {
    model: "gpt-4o-mini",
    messages: [{ role: "user" as const, content: prompt }],
    ...(index % 3 === 0 && { max_tokens: 200 }),
  };
  const options = { headers: { "x-gateway-tags": `n=${index}` } };
  try {
    if (stream) {
      const chunks = await client.chat.completions.create({ ...body, stream: true }, options);
      for await (const chunk of chunks) {
        outcome.id ??= chunk.id;
        outcome.text += chunk.choices[0]?.delta.content ?? "";
      }
    } else {
      const answer = await client.chat.completions.create(body, options);
      outcome.id = answer.id;
      outcome.text = answer.choices[0]?.message.content ?? "";
    }
  } catch (error) {
    outcome.error =
      error instanceof OpenAI.APIError
        ? { status: error.status, type: error.constructor.name, message: error.message }
        : { type: (error as Error).constructor.name, message: (error as Error).message };
  }
  return outcome;
}
