import { readdirSync, readFileSync } from "node:fs";
import { countPromptTokens } from "../schemas/prompt-tokens.ts";
import { blankPart, type ChatRequest } from "../schemas/request-envelope.ts";

/**
 * What OpenAI's tokenizer costs where admission runs (the ingress): the memory of loading
 * o200k_base, and the CPU of counting a typical and a large prompt with countPromptTokens, the
 * counter admission and count_tokens use. Varied text (this repository's docs and sources), so
 * the tokenizer's merge cache is not flattered by repetition. Run: `node --import tsx bench/token-count.ts`.
 */
const corpus = ["docs", "calls", "workers", "governance"]
  .flatMap((folder) =>
    readdirSync(folder, { recursive: true, encoding: "utf8" }).map((name) => `${folder}/${name}`),
  )
  .filter((path) => /\.(md|ts)$/.test(path))
  .map((path) => readFileSync(path, "utf8"))
  .join("\n");

const chatOf = (characters: number, offset: number): ChatRequest => ({
  model: "gpt-4o",
  messages: [
    {
      role: "system",
      name: null,
      content: [{ ...blankPart, text: "You are a careful reviewer." }],
      reasoning: [],
    },
    {
      role: "user",
      name: null,
      content: [{ ...blankPart, text: corpus.slice(offset, offset + characters) }],
      reasoning: [],
    },
  ],
  tools: [],
  toolChoice: null,
  temperature: null,
  topP: null,
  reasoning: null,
  maxTokens: null,
  stop: [],
  seed: null,
  n: 1,
  responseFormat: null,
  extraJson: null,
});

const megabytes = () => Math.round(process.memoryUsage().rss / 1e6);
const before = megabytes();
const loadStart = performance.now();
await countPromptTokens({ chat: chatOf(10, 0), embeddings: null }, "o200k_base");
console.log(
  `o200k_base load: ${(performance.now() - loadStart).toFixed(0)} ms, RSS ${before} → ${megabytes()} MB`,
);

for (const [name, characters, rounds] of [
  ["typical (8 KB)", 8_000, 200],
  ["large (400 KB)", 400_000, 10],
] as const) {
  let tokens = 0;
  const cpuStart = process.cpuUsage();
  for (let round = 0; round < rounds; round++) {
    // A different slice each round: each count is a prompt the tokenizer has not seen.
    const offset = (round * 7_919) % Math.max(1, corpus.length - characters);
    tokens = (await countPromptTokens({ chat: chatOf(characters, offset), embeddings: null }, "o200k_base"))
      .tokens;
  }
  const cpu = process.cpuUsage(cpuStart);
  const perCountMs = (cpu.user + cpu.system) / 1000 / rounds;
  console.log(`${name}: ~${tokens} tokens, ${perCountMs.toFixed(2)} ms CPU a count, RSS ${megabytes()} MB`);
}
