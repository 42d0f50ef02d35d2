import { startOpenAIEmulator } from "../test/emulators/openai.ts";
import { benchKey, startLocalGateway } from "./local-gateway.ts";
import { paraphrasePairs } from "./paraphrases.ts";

/**
 * Hit and false-hit rates of the semantic cache on a labelled set of question pairs
 * (bench/paraphrases.ts), through the gateway, at several thresholds. Each threshold is a model of
 * its own (its own index); each pair's first question is asked (and kept), then its second. A hit
 * on a paraphrase pair's own first question is a true hit; any other hit is a false one. The
 * embeddings are the OpenAI emulator's, which follow shared words (no real embedding model is
 * reachable here): the numbers measure the cache's mechanics and a lexical embedding, not a
 * production model. Run: `npm run bench:semantic`; with EMBEDDINGS_URL, EMBEDDINGS_KEY and
 * EMBEDDINGS_MODEL set, the embeddings come from that OpenAI-compatible service instead.
 */
const real = process.env.EMBEDDINGS_URL;
const thresholds = [0.7, 0.8, 0.9, 0.95];
const key = benchKey;
const emulator = await startOpenAIEmulator({ apiKey: "k", record: false });
const local = await startLocalGateway({
  providers: [
    { name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "k" } },
    ...(real
      ? [
          {
            name: "embedder",
            type: "openai-compatible",
            options: { baseUrl: real, apiKey: process.env.EMBEDDINGS_KEY },
          },
        ]
      : []),
  ],
  models: [
    real
      ? {
          name: "embed",
          provider: "embedder",
          model: process.env.EMBEDDINGS_MODEL ?? "text-embedding-3-small",
        }
      : { name: "embed", provider: "p", model: "embedding-model" },
    ...thresholds.map((threshold) => ({
      name: `t${threshold}`,
      provider: "p",
      model: "chat-model",
      cache: { ttlSeconds: 600, semantic: { embeddingModel: "embed", threshold } },
    })),
  ],
});
const gateway = local.gateway;
const ask = async (model: string, content: string) => {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, temperature: 0, messages: [{ role: "user", content }] }),
  });
  const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
  return { cache: response.headers.get("x-gateway-cache"), text: body.choices[0]?.message.content ?? "" };
};

const rows: string[] = [];
for (const threshold of thresholds) {
  const model = `t${threshold}`;
  let trueHits = 0;
  let falseHits = 0;
  for (const pair of paraphrasePairs) {
    const first = await ask(model, pair.first);
    const second = await ask(model, pair.second);
    if (second.cache !== "semantic-hit") continue;
    // The emulator echoes the question: the answer says which kept question it belonged to.
    if (pair.paraphrase && second.text === first.text) trueHits++;
    else falseHits++;
  }
  const paraphrases = paraphrasePairs.filter((pair) => pair.paraphrase).length;
  const others = paraphrasePairs.length - paraphrases;
  rows.push(
    `| ${threshold} | ${trueHits}/${paraphrases} (${((100 * trueHits) / paraphrases).toFixed(0)} %) | ${falseHits}/${others} (${((100 * falseHits) / others).toFixed(0)} %) |`,
  );
}
process.stdout.write(
  [
    `${paraphrasePairs.length} labelled pairs; hit rate over paraphrase pairs, false hits over the others:`,
    "",
    "| threshold | hit rate | false-hit rate |",
    "| --- | --- | --- |",
    ...rows,
    "",
  ].join("\n"),
);
await local.close();
await emulator.close();
