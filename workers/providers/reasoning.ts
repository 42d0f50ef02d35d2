import type { ChatRequest, ReasoningEffort } from "../../schemas/request-envelope.ts";

/**
 * One table between the two ways callers ask a model to reason: OpenAI's efforts and the token
 * budgets of Anthropic and Gemini (Anthropic thinks with at least 1024 tokens).
 */
const budgets: Record<ReasoningEffort, number> = {
  none: 0,
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16384,
  xhigh: 32768,
};

type Reasoning = NonNullable<ChatRequest["reasoning"]>;

/** The request's budget, or the one its effort stands for (0: do not reason). */
export function reasoningBudget(reasoning: Reasoning): number {
  return reasoning.budgetTokens ?? budgets[reasoning.effort ?? "medium"];
}

/** The request's effort, or the nearest one to its budget. */
export function reasoningEffort(reasoning: Reasoning): ReasoningEffort {
  if (reasoning.effort !== null) return reasoning.effort;
  const budget = reasoning.budgetTokens ?? budgets.medium;
  return budget <= budgets.low ? "low" : budget <= budgets.medium ? "medium" : "high";
}
