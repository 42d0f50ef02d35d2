import { useEffect, useRef, useState } from "preact/hooks";
import { admin } from "../api.ts";
import { ErrorAlert } from "../parts/notices.tsx";
import { useLoad } from "../parts/use-query.ts";
import { type Column, VirtualTable } from "../parts/virtual-table.tsx";
import { count, unixTime } from "../ranges.ts";

/** A batch as GET /admin/batches lists it: OpenAI's batch object, with its API, key and team. */
interface Batch {
  id: string;
  api: "openai" | "anthropic";
  status: string;
  created_at: number;
  expires_at: number;
  request_counts: { total: number; completed: number; failed: number };
  progress: { done: number; cancelled: number; lines_per_second: number; eta_seconds: number | null };
  output_file_id: string | null;
  error_file_id: string | null;
  key_id: string;
  key_name: string | null;
  team: string | null;
}

interface BatchPage {
  data: Batch[];
  has_more: boolean;
  last_id: string | null;
}

const pageSize = 50;
const cancellable = new Set(["validating", "in_progress"]);

/** The newest `pages` pages of every key's batches. */
async function newestBatches(pages: number) {
  const batches: Batch[] = [];
  let after: string | null = null;
  for (let page = 0; page < pages; page++) {
    const answer: BatchPage = await admin.get(
      `/admin/batches?limit=${pageSize}${after ? `&after=${encodeURIComponent(after)}` : ""}`,
    );
    batches.push(...answer.data);
    if (!answer.has_more) return { batches, more: false };
    after = answer.last_id;
  }
  return { batches, more: true };
}

const percentDone = (batch: Batch) =>
  batch.request_counts.total === 0 ? 0 : Math.round((batch.progress.done / batch.request_counts.total) * 100);

function Progress(props: { batch: Batch }) {
  const percent = percentDone(props.batch);
  return (
    <div
      class="progress"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      aria-label={`Progress of ${props.batch.id}`}
    >
      <span class="progress-fill" style={{ width: `${percent}%` }} />
      <span class="progress-text">{percent} %</span>
    </div>
  );
}

/**
 * Every key's batch jobs (admin), newest first and live: how far each is, its line counts, its
 * key and team; cancel one (after a confirmation on the page), download its result files.
 */
export function Batches() {
  const [pages, setPages] = useState(1);
  const [confirming, setConfirming] = useState<Batch>();
  const [notice, setNotice] = useState<{ text: string; failed?: boolean }>();
  const [revision, setRevision] = useState(0);
  const keep = useRef<HTMLButtonElement>(null);
  // The confirmation takes the focus, on its harmless choice, so a keyboard user answers it next.
  useEffect(() => keep.current?.focus(), [confirming]);
  // Every two seconds: live enough for a job of minutes, and each call is an admin request the audit log keeps.
  const { data, error } = useLoad(() => newestBatches(pages), [pages, revision], 2000);

  const cancel = async (batch: Batch) => {
    setConfirming(undefined);
    try {
      const cancelled = await admin.send<Batch>(
        "POST",
        `/admin/batches/${encodeURIComponent(batch.id)}/cancel`,
      );
      setNotice({ text: `Batch ${batch.id} is ${cancelled.status}.` });
    } catch (failure) {
      setNotice({ text: `Batch ${batch.id} was not cancelled: ${(failure as Error).message}`, failed: true });
    }
    setRevision((n) => n + 1);
  };

  const columns: Array<Column<Batch>> = [
    // Wide enough for a whole id on a wide screen; cut short on a narrow one, whole on hover.
    { label: "Batch", width: "minmax(12em, 2fr)", cell: (batch) => <span title={batch.id}>{batch.id}</span> },
    { label: "API", width: "5.5em", cell: (batch) => (batch.api === "openai" ? "OpenAI" : "Anthropic") },
    { label: "Status", width: "6.5em", cell: (batch) => batch.status },
    { label: "Progress", width: "minmax(6em, 1fr)", cell: (batch) => <Progress batch={batch} /> },
    { label: "Lines", width: "4.5em", cell: (batch) => count(batch.request_counts.total) },
    { label: "Completed", width: "6.5em", cell: (batch) => count(batch.request_counts.completed) },
    { label: "Failed", width: "4.5em", cell: (batch) => count(batch.request_counts.failed) },
    { label: "Created", width: "6.5em", cell: (batch) => unixTime(batch.created_at) },
    { label: "Expires", width: "6.5em", cell: (batch) => unixTime(batch.expires_at) },
    {
      label: "Key / team",
      width: "minmax(6em, 1fr)",
      cell: (batch) => `${batch.key_name ?? batch.key_id}${batch.team ? ` · ${batch.team}` : ""}`,
    },
    {
      label: "Actions",
      width: "9em",
      cell: (batch) => (
        <span class="actions">
          {cancellable.has(batch.status) && (
            <button type="button" aria-label={`Cancel ${batch.id}`} onClick={() => setConfirming(batch)}>
              Cancel
            </button>
          )}
          {batch.output_file_id && (
            <a
              href={`/admin/batches/${encodeURIComponent(batch.id)}/output`}
              download
              aria-label={`Output of ${batch.id}`}
            >
              Output
            </a>
          )}
          {batch.error_file_id && (
            <a
              href={`/admin/batches/${encodeURIComponent(batch.id)}/errors`}
              download
              aria-label={`Errors of ${batch.id}`}
            >
              Errors
            </a>
          )}
        </span>
      ),
    },
  ];

  const batches = data?.batches ?? [];
  return (
    <section aria-labelledby="batches-title">
      <header class="page-head">
        <h1 id="batches-title">Batches</h1>
      </header>
      <ErrorAlert message={error} />
      {confirming && (
        <fieldset class="confirm-panel">
          <legend>Cancel batch {confirming.id}?</legend>
          <span>Its lines not yet started will not run; those running finish.</span>
          <button type="button" class="danger" onClick={() => cancel(confirming)}>
            Cancel the batch
          </button>
          <button type="button" ref={keep} onClick={() => setConfirming(undefined)}>
            Keep it running
          </button>
        </fieldset>
      )}
      <p class={notice?.failed ? "error" : "meta"} role="status">
        {notice?.text}
      </p>
      <p class="meta">
        {count(batches.length)} batch{batches.length === 1 ? "" : "es"}, newest first
      </p>
      <VirtualTable label="Batches" rows={batches} columns={columns} rowKey={(batch) => batch.id} />
      {data?.more && (
        <button type="button" onClick={() => setPages((n) => n + 1)}>
          Show older batches
        </button>
      )}
    </section>
  );
}
