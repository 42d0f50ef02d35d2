import type { ReasoningPart } from "../../../schemas/request-envelope.ts";

/**
 * The `encrypted_content` of the reasoning items the gateway returns: the provider's proof of its
 * reasoning (Anthropic's signature, or a redacted block's data), which the caller hands back in
 * its next input so that the provider accepts its own reasoning again. Opaque to callers; the
 * prefix tells it apart from content encrypted by OpenAI itself, which only OpenAI could read.
 */
const prefix = "gw1.";

type Proof = Pick<ReasoningPart, "signature" | "redactedData">;

export function encodeReasoningProof(proof: Proof): string | null {
  if (proof.signature === null && proof.redactedData === null) return null;
  const json = JSON.stringify({ s: proof.signature, r: proof.redactedData });
  return prefix + Buffer.from(json).toString("base64url");
}

export function decodeReasoningProof(encrypted: string | null | undefined): Proof {
  const none = { signature: null, redactedData: null };
  if (!encrypted?.startsWith(prefix)) return none;
  try {
    const { s, r } = JSON.parse(Buffer.from(encrypted.slice(prefix.length), "base64url").toString()) as {
      s?: unknown;
      r?: unknown;
    };
    return { signature: typeof s === "string" ? s : null, redactedData: typeof r === "string" ? r : null };
  } catch {
    return none;
  }
}
