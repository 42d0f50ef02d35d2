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

/** A message as the gateway stores a prompt: the caller's API translated to one shape for every provider. */
interface StoredMessage {
  role: string;
  name: string | null;
  content: Array<{
    kind: "text" | "image" | "tool_call" | "tool_result";
    text: string | null;
    toolCallId: string | null;
    toolName: string | null;
    argumentsJson: string | null;
    isError: boolean;
  }>;
}

/**
 * A stored prompt as the conversation it is — each message's role and its parts as text (an image
 * named, a tool call as `→ name(arguments)`, its result as `←`) — or, if it is not a list of
 * messages, as the text it is.
 */
export function StoredPrompt(props: { text: string }) {
  const messages = messagesOf(props.text);
  if (!messages) return <StoredText text={props.text} />;
  return (
    <ol class="messages">
      {messages.map((message, index) => (
        <li key={index}>
          <span class="role">
            {message.role}
            {message.name ? ` (${message.name})` : ""}
          </span>
          <StoredText text={message.content.map(partText).join("\n")} />
        </li>
      ))}
    </ol>
  );
}

function messagesOf(text: string): StoredMessage[] | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    const isMessage = (item: unknown) =>
      typeof (item as StoredMessage)?.role === "string" && Array.isArray((item as StoredMessage).content);
    return Array.isArray(parsed) && parsed.every(isMessage) ? (parsed as StoredMessage[]) : undefined;
  } catch {
    return undefined;
  }
}

function partText(part: StoredMessage["content"][number]): string {
  if (part.kind === "image") return "[an image]";
  if (part.kind === "tool_call") return `→ ${part.toolName ?? "tool"}(${part.argumentsJson ?? ""})`;
  if (part.kind === "tool_result")
    return `← ${part.isError ? "error from" : "result of"} ${part.toolCallId ?? "a tool call"}: ${part.text ?? ""}`;
  return part.text ?? "";
}
