import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AnthropicMessagesBody } from "../../calls/apis/anthropic-messages/request.ts";
import { parseAnthropicMessages } from "../../calls/apis/anthropic-messages/request.ts";
import type { ChatRequest, EmbeddingsRequest } from "../../schemas/request-envelope.ts";
import { bedrockProvider } from "../../workers/providers/bedrock/index.ts";
import type { ChatPart, Provider } from "../../workers/providers/provider.ts";
import { startStsEmulator } from "../emulators/aws-sts.ts";
import { type BedrockEmulator, startBedrockEmulator } from "../emulators/bedrock.ts";

const region = "eu-west-3";
const keys = { accessKeyId: "AKIAPROVIDERTEST", secretAccessKey: "provider/test+secret" };
const claude = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

/** A provider of type bedrock with these options, defaults filled in as the configuration loader does. */
const bedrock = (options: Record<string, unknown>): Provider =>
  bedrockProvider.create(Value.Default(bedrockProvider.optionsSchema, { region, ...options }) as never);

/** The gateway's chat request for an Anthropic Messages body (the ingress's own parser). */
const chatOf = (body: Partial<AnthropicMessagesBody>): ChatRequest =>
  parseAnthropicMessages({ model: "m", max_tokens: 500, ...body } as AnthropicMessagesBody)
    .chat as ChatRequest;
const ask = (text: string) => chatOf({ messages: [{ role: "user", content: text }] });

const callOptions = (model: string, stream: boolean) => ({
  model,
  stream,
  signal: new AbortController().signal,
  inboundApi: "anthropic_messages" as const,
});

async function collect(parts: AsyncIterable<ChatPart>): Promise<ChatPart[]> {
  const all: ChatPart[] = [];
  for await (const part of parts) all.push(part);
  return all;
}
const textOf = (parts: ChatPart[]) =>
  parts.map((part) => (part.type === "text-delta" ? part.text : "")).join("");

describe("the bedrock provider adapter, against a Bedrock emulator", () => {
  let emulator: BedrockEmulator;
  let provider: Provider;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    emulator = await startBedrockEmulator({ region, ...keys });
    provider = bedrock({ baseUrl: emulator.url, ...keys });
  });
  afterAll(() => emulator.close());
  afterEach(() => {
    process.env = { ...savedEnv };
  });
  const lastRequest = () => emulator.requests.at(-1) as BedrockEmulator["requests"][number];

  it("sends a non-Anthropic model to Converse: system, turns, inference settings, tools and cache points", async () => {
    const request = chatOf({
      system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
      temperature: 0.3,
      stop_sequences: ["END"],
      tools: [{ name: "lookup", description: "Look up", input_schema: { type: "object" } }],
      tool_choice: { type: "auto" },
      messages: [{ role: "user", content: "hello there" }],
    });
    const parts = await collect(provider.chat(request, callOptions("amazon.nova-pro-v1:0", false)));
    expect(textOf(parts)).toBe("Echo: hello there");
    expect(parts.find((part) => part.type === "finish")).toMatchObject({ reason: "stop" });
    const sent = lastRequest();
    expect(sent.path).toBe("/model/amazon.nova-pro-v1%3A0/converse");
    expect(sent.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAPROVIDERTEST\/\d{8}\/eu-west-3\/bedrock\//,
    );
    expect(sent.body).toEqual({
      system: [{ text: "Be brief." }, { cachePoint: { type: "default" } }],
      messages: [{ role: "user", content: [{ text: "hello there" }] }],
      inferenceConfig: { maxTokens: 500, temperature: 0.3, stopSequences: ["END"] },
      toolConfig: {
        tools: [
          { toolSpec: { name: "lookup", description: "Look up", inputSchema: { json: { type: "object" } } } },
        ],
        toolChoice: { auto: {} },
      },
    });
  });

  it("carries a tool loop to Converse: images as bytes, signed reasoning put back, tool results in the user turn", async () => {
    const request = chatOf({
      tools: [{ name: "lookup", input_schema: { type: "object" } }],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "look" },
            { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQ" } },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "hmm", signature: "sig-1" },
            { type: "tool_use", id: "t1", name: "lookup", input: { q: "x" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "t1", content: "found", is_error: true },
            { type: "text", text: "thanks" },
          ],
        },
      ],
    } as Partial<AnthropicMessagesBody>);
    expect(textOf(await collect(provider.chat(request, callOptions("m", false))))).toBe("Echo: thanks");
    expect(lastRequest().body.messages).toEqual([
      {
        role: "user",
        content: [{ text: "look" }, { image: { format: "jpeg", source: { bytes: "/9j/4AAQ" } } }],
      },
      {
        role: "assistant",
        content: [
          { reasoningContent: { reasoningText: { text: "hmm", signature: "sig-1" } } },
          { toolUse: { toolUseId: "t1", name: "lookup", input: { q: "x" } } },
        ],
      },
      {
        role: "user",
        content: [
          { toolResult: { toolUseId: "t1", content: [{ text: "found" }], status: "error" } },
          { text: "thanks" },
        ],
      },
    ]);
    const refused = (changed: Partial<ChatRequest>) =>
      collect(provider.chat({ ...ask("hi"), ...changed }, callOptions("m", false)));
    await expect(refused({ n: 2 })).rejects.toMatchObject({
      code: "invalid_request",
      details: { param: "n" },
    });
    await expect(refused({ seed: 1 })).rejects.toMatchObject({
      code: "invalid_request",
      details: { param: "seed" },
    });
    const byUrl = chatOf({
      messages: [
        {
          role: "user",
          content: [{ type: "image", source: { type: "url", url: "https://example.com/a.png" } }],
        },
      ],
    } as Partial<AnthropicMessagesBody>);
    await expect(collect(provider.chat(byUrl, callOptions("m", false)))).rejects.toMatchObject({
      code: "invalid_request",
      message: "image_url: the bedrock Converse API takes images as base64 data only",
    });
  });

  it("streams ConverseStream's event-stream frames: tool calls, stop reason and usage with cached tokens", async () => {
    const request = chatOf({
      tools: [{ name: "lookup", input_schema: { type: "object" } }],
      messages: [{ role: "user", content: "look both up [emulator:calls=2] [emulator:cached]" }],
    });
    const parts = await collect(provider.chat(request, callOptions("mistral.mistral-large-2407-v1:0", true)));
    const calls = parts.filter((part) => part.type === "tool-call-delta");
    expect(calls.filter((call) => call.id).map((call) => [call.index, call.name])).toEqual([
      [0, "lookup"],
      [1, "lookup"],
    ]);
    expect(
      calls
        .filter((call) => call.index === 1)
        .map((call) => call.argumentsDelta)
        .join(""),
    ).toBe('{"n": 1}');
    expect(parts.at(-2)).toEqual({ type: "finish", choice: 0, reason: "tool_calls" });
    expect(parts.at(-1)).toEqual({
      type: "usage",
      usage: {
        inputTokens: 130,
        outputTokens: 14,
        cachedInputTokens: 100,
        cacheWriteTokens: 20,
        reasoningTokens: 0,
      },
    });
    expect(lastRequest().path).toBe("/model/mistral.mistral-large-2407-v1%3A0/converse-stream");
  });

  it("sends a cross-region Anthropic profile to InvokeModel in Anthropic's body: thinking and cache_control kept", async () => {
    const request = chatOf({
      max_tokens: 4000,
      thinking: { type: "enabled", budget_tokens: 2048 },
      system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
      messages: [
        { role: "user", content: [{ type: "text", text: "think", cache_control: { type: "ephemeral" } }] },
      ],
    } as Partial<AnthropicMessagesBody>);
    const parts = await collect(provider.chat(request, callOptions(claude, true)));
    const sent = lastRequest();
    expect(sent.path).toBe(
      "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream",
    );
    expect(sent.body).toEqual({
      anthropic_version: "bedrock-2023-05-31",
      max_tokens: 4000,
      thinking: { type: "enabled", budget_tokens: 2048 },
      system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
      messages: [
        { role: "user", content: [{ type: "text", text: "think", cache_control: { type: "ephemeral" } }] },
      ],
    });
    const reasoning = parts.filter((part) => part.type === "reasoning-delta");
    expect(reasoning.map((part) => part.text ?? "").join("")).toBe("Thinking about: think");
    expect(reasoning.at(-1)?.signature).toMatch(/^sig_/);
    expect(textOf(parts)).toBe("Echo: think");

    const whole = await collect(
      provider.chat(ask("hello"), callOptions("global.anthropic.claude-opus-4-1-v1:0", false)),
    );
    expect(lastRequest().path).toBe("/model/global.anthropic.claude-opus-4-1-v1%3A0/invoke");
    expect(textOf(whole)).toBe("Echo: hello");
  });

  it("maps Bedrock's HTTP errors by x-amzn-ErrorType and an in-stream throttlingException to a rate limit", async () => {
    await expect(
      collect(provider.chat(ask("hi [emulator:status=429]"), callOptions("m", false))),
    ).rejects.toMatchObject({
      code: "rate_limited",
      message: "bedrock is rate limiting: ThrottlingException: Emulated failure with status 429",
    });
    await expect(
      collect(provider.chat(ask("hi"), callOptions("missing-model", false))),
    ).rejects.toMatchObject({
      code: "not_found",
    });
    for (const model of ["cohere.command-r-v1:0", claude]) {
      const parts: ChatPart[] = [];
      const failure = await (async () => {
        for await (const part of provider.chat(
          ask("a b c d [emulator:midstream=throttlingException]"),
          callOptions(model, true),
        ))
          parts.push(part);
      })().catch((error: unknown) => error);
      expect(textOf(parts)).toBe("Echo: a");
      expect(failure).toMatchObject({ code: "rate_limited", status: 429 });
      expect((failure as Error).message).toMatch(/throttlingException mid-stream/);
    }
  });

  it("detects a corrupted frame by its CRC32, in the prelude or in the message", async () => {
    for (const [kind, problem] of [
      ["prelude", "its prelude CRC32 does not match"],
      ["message", "its message CRC32 does not match"],
    ]) {
      for (const model of ["m", claude]) {
        await expect(
          collect(provider.chat(ask(`hello [emulator:corrupt=${kind}]`), callOptions(model, true))),
        ).rejects.toMatchObject({
          code: "provider_error",
          message: `bedrock sent an event stream message that the gateway cannot read: ${problem}`,
        });
      }
    }
  });

  it("refuses a wrong secret with AWS's 403, reported as the gateway's credentials refused", async () => {
    const wrong = bedrock({ baseUrl: emulator.url, ...keys, secretAccessKey: "not-the-secret" });
    await expect(collect(wrong.chat(ask("hello"), callOptions("m", false)))).rejects.toMatchObject({
      code: "provider_error",
      status: 502,
      message: "bedrock refused the gateway's AWS credentials (HTTP 403 InvalidSignatureException)",
    });
    expect(lastRequest().status).toBe(403);
  });

  it("refuses a body altered after signing", async () => {
    // A proxy that changes one letter of the body on its way, keeping its length and headers.
    const proxy = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("end", () => {
        const body = Buffer.from(Buffer.concat(chunks).toString().replace("hello", "jello"));
        const target = new URL(emulator.url);
        const forward = httpRequest(
          {
            host: target.hostname,
            port: target.port,
            method: incoming.method,
            path: incoming.url,
            headers: incoming.headers,
          },
          (answer) => {
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(outgoing);
          },
        );
        forward.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const through = bedrock({
        baseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
        ...keys,
      });
      await expect(collect(through.chat(ask("hello"), callOptions("m", false)))).rejects.toMatchObject({
        message: "bedrock refused the gateway's AWS credentials (HTTP 403 InvalidSignatureException)",
      });
      expect(lastRequest().body).toMatchObject({ messages: [{ content: [{ text: "jello" }] }] });
      await expect(collect(through.chat(ask("unchanged"), callOptions("m", false)))).resolves.toBeDefined();
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it("signs the session token of temporary keys; without it the keys are refused", async () => {
    const temporary = {
      accessKeyId: "ASIATEMPORARY",
      secretAccessKey: "temporary-secret",
      sessionToken: "token-1",
    };
    emulator.allow(temporary.accessKeyId, {
      secretAccessKey: temporary.secretAccessKey,
      sessionToken: "token-1",
    });
    const withToken = bedrock({ baseUrl: emulator.url, ...temporary });
    expect(textOf(await collect(withToken.chat(ask("hi"), callOptions("m", false))))).toBe("Echo: hi");
    expect(lastRequest().headers["x-amz-security-token"]).toBe("token-1");
    expect(lastRequest().headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-security-token/);
    const { sessionToken: _, ...withoutToken } = temporary;
    await expect(
      collect(bedrock({ baseUrl: emulator.url, ...withoutToken }).chat(ask("hi"), callOptions("m", false))),
    ).rejects.toMatchObject({ message: /HTTP 403 UnrecognizedClientException/ });
    emulator.allow("ASIAEXPIRED", { secretAccessKey: "s", sessionToken: "t", expiresAt: Date.now() - 1 });
    await expect(
      collect(
        bedrock({
          baseUrl: emulator.url,
          accessKeyId: "ASIAEXPIRED",
          secretAccessKey: "s",
          sessionToken: "t",
        }).chat(ask("hi"), callOptions("m", false)),
      ),
    ).rejects.toMatchObject({ message: /HTTP 403 ExpiredTokenException/ });
  });

  it("finds credentials in the environment, then in the shared credentials file's profile", async () => {
    process.env.AWS_ACCESS_KEY_ID = keys.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = keys.secretAccessKey;
    process.env.AWS_REGION = region;
    const fromEnv = bedrockProvider.create(
      Value.Default(bedrockProvider.optionsSchema, { baseUrl: emulator.url }) as never,
    );
    expect(textOf(await collect(fromEnv.chat(ask("from env"), callOptions("m", false))))).toBe(
      "Echo: from env",
    );

    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const file = join(mkdtempSync(join(tmpdir(), "aws-")), "credentials");
    writeFileSync(
      file,
      `[default]\naws_access_key_id = AKIAWRONG\naws_secret_access_key = wrong\n\n# the one to use\n[work]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\n`,
    );
    process.env.AWS_SHARED_CREDENTIALS_FILE = file;
    const fromFile = bedrock({ baseUrl: emulator.url, profile: "work" });
    expect(textOf(await collect(fromFile.chat(ask("from file"), callOptions("m", false))))).toBe(
      "Echo: from file",
    );
    process.env.AWS_PROFILE = "default";
    await expect(
      collect(bedrock({ baseUrl: emulator.url }).chat(ask("hi"), callOptions("m", false))),
    ).rejects.toMatchObject({ message: /HTTP 403 UnrecognizedClientException/ });
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(tmpdir(), "no-such-credentials-file");
    await expect(
      collect(bedrock({ baseUrl: emulator.url }).chat(ask("hi"), callOptions("m", false))),
    ).rejects.toMatchObject({ code: "provider_error", message: /bedrock has no AWS credentials/ });
  });

  it("assumes a role with a web identity token at STS, caches the keys and renews them before they expire", async () => {
    const roleArn = "arn:aws:iam::123456789012:role/gateway";
    const tokenFile = join(mkdtempSync(join(tmpdir(), "wit-")), "token");
    writeFileSync(tokenFile, "web-identity-token\n");
    for (const [durationMs, expectedCalls] of [
      [3600_000, 1],
      [4 * 60_000, 3], // inside the five-minute renewal margin: renewed on every use
    ] as const) {
      const sts = await startStsEmulator({
        roleArn,
        token: "web-identity-token",
        durationMs,
        issue: (accessKeyId, key) => emulator.allow(accessKeyId, key),
      });
      try {
        process.env.AWS_ROLE_ARN = roleArn;
        process.env.AWS_WEB_IDENTITY_TOKEN_FILE = tokenFile;
        process.env.AWS_SHARED_CREDENTIALS_FILE = join(tmpdir(), "no-such-credentials-file");
        const assumed = bedrock({ baseUrl: emulator.url, stsEndpoint: sts.url });
        for (const word of ["one", "two", "three"])
          expect(textOf(await collect(assumed.chat(ask(word), callOptions("m", false))))).toBe(
            `Echo: ${word}`,
          );
        expect(sts.calls()).toBe(expectedCalls);
        expect(lastRequest().headers["x-amz-security-token"]).toBeTruthy();
      } finally {
        await sts.close();
      }
    }
    const sts = await startStsEmulator({
      roleArn,
      token: "another-token",
      durationMs: 3600_000,
      issue: () => {},
    });
    try {
      const refused = bedrock({
        baseUrl: emulator.url,
        roleArn,
        webIdentityTokenFile: tokenFile,
        stsEndpoint: sts.url,
      });
      await expect(collect(refused.chat(ask("hi"), callOptions("m", false)))).rejects.toMatchObject({
        message: `bedrock could not assume role ${roleArn} with its web identity: STS answered HTTP 400 InvalidIdentityToken`,
      });
    } finally {
      await sts.close();
    }
  });

  it("embeds with Titan, one text a call, and with Cohere, all at once", async () => {
    const embeddings = (input: string[], dimensions: number | null): EmbeddingsRequest =>
      ({ model: "e", input, dimensions }) as EmbeddingsRequest;
    const before = emulator.requests.length;
    const titan = await provider.embed(
      embeddings(["one two", "three"], 256),
      callOptions("amazon.titan-embed-text-v2:0", false),
    );
    expect(titan.vectors.map((vector) => vector.length)).toEqual([256, 256]);
    expect(titan.usage.inputTokens).toBe(3);
    expect(emulator.requests.slice(before).map((request) => request.body)).toEqual([
      { inputText: "one two", dimensions: 256 },
      { inputText: "three", dimensions: 256 },
    ]);
    const cohere = await provider.embed(
      embeddings(["a b", "c"], null),
      callOptions("cohere.embed-english-v3", false),
    );
    expect(cohere.vectors.map((vector) => vector.length)).toEqual([1024, 1024]);
    expect(cohere.usage.inputTokens).toBe(3);
    expect(lastRequest().body).toEqual({ texts: ["a b", "c"], input_type: "search_document" });
    await expect(
      provider.embed(embeddings(["x"], null), callOptions("meta.llama3", false)),
    ).rejects.toMatchObject({
      code: "invalid_request",
    });
  });

  it("counts tokens with CountTokens: the InvokeModel body for Anthropic models, the Converse input for others", async () => {
    const request = chatOf({ system: "be brief", messages: [{ role: "user", content: "hello big world" }] });
    const count = (model: string) => provider.countTokens?.(request, callOptions(model, false));
    // The emulator counts a token a word and three a message: 5 words, 1 message.
    expect(await count(claude)).toBe(8);
    const invoked = lastRequest().body as { input: { invokeModel: { body: string } } };
    expect(lastRequest().path).toBe("/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/count-tokens");
    expect(JSON.parse(invoked.input.invokeModel.body)).toMatchObject({
      anthropic_version: "bedrock-2023-05-31",
      system: [{ type: "text", text: "be brief" }],
    });
    expect(await count("amazon.nova-lite-v1:0")).toBe(8);
    expect(lastRequest().body).toEqual({
      input: {
        converse: {
          system: [{ text: "be brief" }],
          messages: [{ role: "user", content: [{ text: "hello big world" }] }],
        },
      },
    });
  });
});
