import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

/** Azure OpenAI and OpenAI-compatible servers: the OpenAI adapter's base with their URLs, headers and dialect. */
describe("the azure-openai and openai-compatible adapters", () => {
  let azure: OpenAIEmulator;
  let local: OpenAIEmulator;
  let gateway: RunningGateway;
  let client: OpenAI;

  beforeAll(async () => {
    azure = await startOpenAIEmulator({ apiKey: "azure-key-0123456789", flavour: "azure" });
    local = await startOpenAIEmulator({});
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: [
          {
            name: "azure",
            type: "azure-openai",
            options: {
              endpoint: new URL(azure.url).origin,
              apiKey: "azure-key-0123456789",
              apiVersion: "2024-10-21",
            },
          },
          { name: "vllm", type: "openai-compatible", options: { baseUrl: local.url } },
        ],
        models: [
          { name: "gpt-4o", provider: "azure", model: "prod-gpt4o" },
          { name: "llama", provider: "vllm", model: "meta-llama/Llama-3.1-8B-Instruct" },
        ],
      }),
    );
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway.close();
    await Promise.all([azure.close(), local.close()]);
  });

  it("calls an Azure deployment with api-version and the api-key header, the model in the URL only", async () => {
    const completion = await client.chat.completions.create({
      model: "gpt-4o",
      max_tokens: 20,
      messages: [{ role: "user", content: "hi azure" }],
    });
    expect(completion.choices[0]?.message.content).toBe("Echo: hi azure");
    const sent = azure.requests.at(-1) as OpenAIEmulator["requests"][number];
    expect(sent.path).toBe("/openai/deployments/prod-gpt4o/chat/completions?api-version=2024-10-21");
    expect(sent.headers["api-key"]).toBe("azure-key-0123456789");
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body).toEqual({
      messages: [{ role: "user", content: "hi azure" }],
      max_completion_tokens: 20,
    });

    const embedded = await client.embeddings.create({
      model: "gpt-4o",
      input: "x",
      encoding_format: "float",
    });
    expect(embedded.data).toHaveLength(1);
    expect(azure.requests.at(-1)?.path).toBe(
      "/openai/deployments/prod-gpt4o/embeddings?api-version=2024-10-21",
    );
  });

  it("streams from an Azure deployment", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      stream: true,
      messages: [{ role: "user", content: "a b" }],
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("Echo: a b");
  });

  it("calls an OpenAI-compatible server by its base URL, with max_tokens and no key when none is configured", async () => {
    const stream = await client.chat.completions.create({
      model: "llama",
      stream: true,
      max_tokens: 12,
      messages: [{ role: "user", content: "hello local model" }],
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("Echo: hello local model");
    const sent = local.requests.at(-1) as OpenAIEmulator["requests"][number];
    expect(sent.path).toBe("/v1/chat/completions");
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body).toMatchObject({
      model: "meta-llama/Llama-3.1-8B-Instruct",
      max_tokens: 12,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(sent.body).not.toHaveProperty("max_completion_tokens");
  });

  it("maps an unknown Azure deployment to a 404", async () => {
    const error = await client.chat.completions
      .create({ model: "gpt-4o", messages: [{ role: "user", content: "x [emulator:status=404]" }] })
      .catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
  });
});
