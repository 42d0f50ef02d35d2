import { providerTypes } from "../../workers/providers/registry.ts";
import { startAnthropicEmulator } from "./anthropic.ts";
import { startBedrockEmulator } from "./bedrock.ts";
import { startGeminiEmulator } from "./gemini.ts";
import type { Emulator } from "./json-server.ts";
import { startOpenAIEmulator } from "./openai.ts";
import { startVertexEmulator, vertexProject } from "./vertex.ts";

/** A provider type's emulator, and the options that point an adapter of that type at it. */
export interface EmulatedProvider {
  emulator: Emulator;
  options: Record<string, unknown>;
  /**
   * The models the conformance suites run through it, when "model-x" alone does not reach every
   * path of its adapter (a provider type serving several wire formats). The first is the default.
   */
  models?: string[];
}

/**
 * How the suites stand up each provider type that calls a service: one line per type, beside the
 * type's emulator in this folder. A type in the registry that calls a service and has no line here
 * fails every suite that takes its providers from `emulatedProviderTypes` (it is not skipped).
 */
const emulators: Record<string, () => Promise<EmulatedProvider>> = {
  openai: async () => {
    const emulator = await startOpenAIEmulator({ apiKey: "sk-openai-key" });
    return { emulator, options: { baseUrl: emulator.url, apiKey: "sk-openai-key" } };
  },
  "azure-openai": async () => {
    const emulator = await startOpenAIEmulator({ apiKey: "azure-key", flavour: "azure" });
    return { emulator, options: { endpoint: new URL(emulator.url).origin, apiKey: "azure-key" } };
  },
  "openai-compatible": async () => {
    const emulator = await startOpenAIEmulator({});
    return { emulator, options: { baseUrl: emulator.url } };
  },
  anthropic: async () => {
    const emulator = await startAnthropicEmulator({ apiKey: "sk-ant-key" });
    return { emulator, options: { baseUrl: emulator.url, apiKey: "sk-ant-key" } };
  },
  gemini: async () => {
    const emulator = await startGeminiEmulator({ apiKey: "gemini-key" });
    return { emulator, options: { baseUrl: emulator.url, apiKey: "gemini-key" } };
  },
  bedrock: async () => {
    const keys = { accessKeyId: "AKIAEMULATOR", secretAccessKey: "emulator/secret+key" };
    const emulator = await startBedrockEmulator({ region: "us-east-1", ...keys });
    const options = { region: "us-east-1", baseUrl: emulator.url, ...keys };
    // Anthropic models (here a cross-region inference profile) go to InvokeModel, others to Converse.
    return { emulator, options, models: ["model-x", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"] };
  },
  vertex: async () => {
    const emulator = await startVertexEmulator();
    const options = {
      project: vertexProject,
      baseUrl: emulator.url,
      serviceAccount: emulator.newServiceAccount().json,
    };
    return { emulator, options, models: ["model-x", "claude-x"] };
  },
};

/** Every registered provider type that calls a service (all but the in-process mock), by the registry. */
export const emulatedProviderTypes = Object.entries(providerTypes)
  .filter(([, type]) => !type.inProcess)
  .map(([name]) => name);

/** A fresh emulator of a provider type; a type without one is an error naming it. */
export async function startEmulatedProvider(type: string): Promise<EmulatedProvider> {
  const start = emulators[type];
  if (!start)
    throw new Error(
      `provider type ${type} is registered and calls a service, but test/emulators/providers.ts has no emulator for it`,
    );
  return start();
}
