import { anthropicProvider } from "./anthropic/index.ts";
import { azureOpenAIProvider } from "./azure-openai/index.ts";
import { bedrockProvider } from "./bedrock/index.ts";
import { geminiProvider } from "./gemini/index.ts";
import { mockProvider } from "./mock/index.ts";
import { openAIProvider } from "./openai/index.ts";
import { openAICompatibleProvider } from "./openai-compatible/index.ts";
import type { ProviderType } from "./provider.ts";
import { vertexProvider } from "./vertex/index.ts";

/**
 * Every provider type, by the name used in the config's `providers[].type`. Adding a provider is
 * one folder and one line here; the list of valid types is derived from this object.
 */
export const providerTypes = {
  mock: mockProvider,
  openai: openAIProvider,
  "openai-compatible": openAICompatibleProvider,
  "azure-openai": azureOpenAIProvider,
  anthropic: anthropicProvider,
  gemini: geminiProvider,
  bedrock: bedrockProvider,
  vertex: vertexProvider,
} satisfies Record<string, ProviderType>;

export type ProviderTypeName = keyof typeof providerTypes;
