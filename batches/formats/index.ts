import type { BatchRecord } from "../store.ts";
import { anthropicBatchFormat } from "./anthropic.ts";
import type { BatchFormat } from "./format.ts";
import { openAIBatchFormat } from "./openai.ts";

/** The shapes of each batch API the gateway serves. */
export const formats: Record<BatchRecord["api"], BatchFormat> = {
  openai: openAIBatchFormat,
  anthropic: anthropicBatchFormat,
};
