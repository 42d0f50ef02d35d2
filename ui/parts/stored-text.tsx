import type { ComponentChildren } from "preact";

/** What the gateway writes in place of text it redacted: PII kinds (guardrails), or an operator's pattern. */
const redaction = /\[(?:EMAIL|PHONE|CARD|SECRET|REDACTED)\]/g;

/**
 * Stored prompt or completion text, as text, with each redaction the gateway made marked as one
 * (so a reader tells "[EMAIL]" the gateway wrote from text the caller sent). Never markup.
 */
export function StoredText(props: { text: string }) {
  const parts: ComponentChildren[] = [];
  let last = 0;
  for (const match of props.text.matchAll(redaction)) {
    parts.push(props.text.slice(last, match.index));
    parts.push(
      <mark class="redaction" title="redacted by the gateway">
        {match[0]}
      </mark>,
    );
    last = match.index + match[0].length;
  }
  parts.push(props.text.slice(last));
  return <pre>{parts}</pre>;
}
