import { useState } from "preact/hooks";
import { Panel } from "./panel.tsx";

/**
 * A key just issued, shown this once: the gateway keeps only its hash. The page holds the key for
 * this panel alone, so closing it (or leaving the page) forgets it; it never goes into the URL or
 * any storage.
 */
export function OneTimeSecret(props: { title: string; secret: string; onClose: () => void }) {
  const [copied, setCopied] = useState<string>();
  return (
    <Panel title={props.title} onClose={props.onClose}>
      <p>
        <code class="secret">{props.secret}</code>
      </p>
      <p class="actions">
        <button
          type="button"
          onClick={() =>
            navigator.clipboard.writeText(props.secret).then(
              () => setCopied("Copied."),
              (failure: Error) => setCopied(`Could not copy: ${failure.message}`),
            )
          }
        >
          Copy
        </button>
        <span aria-live="polite">{copied}</span>
      </p>
      <p class="meta">Copy it now: it will not be shown again. Closing this panel forgets it.</p>
    </Panel>
  );
}
