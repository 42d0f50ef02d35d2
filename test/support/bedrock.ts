import { Value } from "@sinclair/typebox/value";
import type { AnthropicMessagesBody } from "../../calls/apis/anthropic-messages/request.ts";
import { parseAnthropicMessages } from "../../calls/apis/anthropic-messages/request.ts";
import type { ChatRequest } from "../../schemas/request-envelope.ts";
import { bedrockProvider } from "../../workers/providers/bedrock/index.ts";
import type { ChatPart, Provider } from "../../workers/providers/provider.ts";

/** What the bedrock adapter's tests share: a provider of the type, requests, and reading its parts. */
export const region = "eu-west-3";
export const keys = { accessKeyId: "AKIAPROVIDERTEST", secretAccessKey: "provider/test+secret" };
export const claude = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

/** A provider of type bedrock with these options, defaults filled in as the configuration loader does. */
export const bedrock = (options: Record<string, unknown>): Provider =>
  bedrockProvider.create(Value.Default(bedrockProvider.optionsSchema, { region, ...options }) as never);

/** The gateway's chat request for an Anthropic Messages body (the ingress's own parser). */
export const chatOf = (body: Partial<AnthropicMessagesBody>): ChatRequest =>
  parseAnthropicMessages({ model: "m", max_tokens: 500, ...body } as AnthropicMessagesBody)
    .chat as ChatRequest;
export const ask = (text: string) => chatOf({ messages: [{ role: "user", content: text }] });

export const callOptions = (model: string, stream: boolean) => ({
  model,
  stream,
  signal: new AbortController().signal,
  inboundApi: "anthropic_messages" as const,
});

export async function collect(parts: AsyncIterable<ChatPart>): Promise<ChatPart[]> {
  const all: ChatPart[] = [];
  for await (const part of parts) all.push(part);
  return all;
}
export const textOf = (parts: ChatPart[]) =>
  parts.map((part) => (part.type === "text-delta" ? part.text : "")).join("");
