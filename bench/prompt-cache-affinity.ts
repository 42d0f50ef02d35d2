import OpenAI from "openai";
import { startOpenAIEmulator } from "../test/emulators/openai.ts";
import { benchKey, startLocalGateway } from "./local-gateway.ts";

/**
 * The provider-side cached share of prompt tokens on a multi-turn workload, with and without
 * prompt-cache affinity: three deployments (OpenAI emulators caching prompts as OpenAI does),
 * 30 conversations of 8 turns whose history grows by ~600 tokens a turn, sent one after another.
 * Run: `npm run bench:affinity`. Prints a markdown table (docs/routing.md quotes it).
 */
const deployments = 3;
const conversations = 30;
const turns = 8;
const key = benchKey;

const emulators = await Promise.all(
  Array.from({ length: deployments }, (_, index) =>
    startOpenAIEmulator({ apiKey: `k${index}`, record: false }),
  ),
);
const local = await startLocalGateway({
  providers: emulators.map((emulator, index) => ({
    name: `d${index}`,
    type: "openai",
    options: { baseUrl: emulator.url, apiKey: `k${index}` },
  })),
  models: ["with-affinity", "without-affinity"].map((name) => ({
    name,
    promptCacheAffinity: name === "with-affinity",
    deployments: emulators.map((_, index) => ({ provider: `d${index}`, model: `${name}-${index}` })),
  })),
});
const gateway = local.gateway;
const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });

const rows: string[] = [];
for (const model of ["without-affinity", "with-affinity"]) {
  let prompt = 0;
  let cached = 0;
  for (let conversation = 0; conversation < conversations; conversation++) {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: "system", content: `${model} ${conversation}: ${"be helpful ".repeat(150)}` },
    ];
    for (let turn = 0; turn < turns; turn++) {
      messages.push({ role: "user", content: `turn ${turn}: ${"details ".repeat(600)}` });
      const answer = await client.chat.completions.create({ model, messages });
      prompt += answer.usage?.prompt_tokens ?? 0;
      cached += answer.usage?.prompt_tokens_details?.cached_tokens ?? 0;
      messages.push({ role: "assistant", content: answer.choices[0]?.message.content ?? "" });
    }
  }
  rows.push(
    `| ${model.replace("-", " ")} | ${prompt} | ${cached} | ${((100 * cached) / prompt).toFixed(1)} % |`,
  );
}
process.stdout.write(
  [
    `${deployments} deployments, ${conversations} conversations × ${turns} turns (weighted, equal weights):`,
    "",
    "| routing | prompt tokens | cached prompt tokens | cached share |",
    "| --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n"),
);
await local.close();
await Promise.all(emulators.map((emulator) => emulator.close()));
