import { query } from "../api.ts";
import { Fact } from "../parts/fact.tsx";
import { ErrorAlert } from "../parts/notices.tsx";
import { StoredPrompt, StoredText } from "../parts/stored-text.tsx";
import { useLoad } from "../parts/use-query.ts";
import { count, milliseconds, usd } from "../ranges.ts";
import type { RequestRow } from "./requests.tsx";

/** A request as the log lists it, and what only its detail shows (the log's timings aside). */
interface Detail extends Omit<RequestRow, "duration_ms" | "ttft_ms"> {
  first_token_at_ms: number | null;
  finished_at_ms: number | null;
  inbound_api: string;
  stream: boolean;
  cached_input_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  priced: boolean;
  cost_saved_usd: string;
  batch_id: string;
  prompt: string;
  completion: string;
}

interface Attempt {
  attempt: string;
  deployment: string;
  route: string;
  started_at_ms: number;
  first_token_at_ms: number | null;
  finished_at_ms: number;
  outcome: string;
  error_code: string;
  status: number;
  input_tokens: number;
  output_tokens: number;
  usage_estimated: boolean;
  cost_usd: string;
}

/** One request: what its caller asked and got, and each provider call it made, on a timeline. */
export function RequestDetail(props: { id: string; back: () => void }) {
  const { data, error } = useLoad(async () => {
    const [detail, attempts] = await Promise.all([
      query<Detail>("request-detail", { id: props.id }),
      query<Attempt>("request-attempts", { id: props.id }),
    ]);
    return { detail: detail.rows[0], attempts: attempts.rows };
  }, [props.id]);
  const detail = data?.detail;
  return (
    <section aria-labelledby="request-title">
      <header class="page-head">
        <button type="button" onClick={props.back}>
          ← Requests
        </button>
        <h1 id="request-title">Request {props.id}</h1>
      </header>
      <ErrorAlert message={error} />
      {data && !detail && <p>No such request (yet): a request shows once it has finished.</p>}
      {detail && (
        <>
          <dl class="facts">
            <Fact label="Model" value={detail.model_requested} />
            <Fact
              label="Answered by"
              value={detail.provider ? `${detail.provider}/${detail.provider_model}` : "–"}
            />
            <Fact
              label="Outcome"
              value={`${detail.outcome} (${detail.status}${detail.error_code ? `, ${detail.error_code}` : ""})`}
            />
            <Fact
              label="Key / team / user"
              value={`${detail.key_id} / ${detail.team || "–"} / ${detail.end_user || "–"}`}
            />
            <Fact
              label="API, priority"
              value={`${detail.inbound_api}${detail.stream ? ", streamed" : ""}, ${detail.priority}`}
            />
            <Fact
              label="Latency"
              value={milliseconds(
                detail.finished_at_ms === null ? null : detail.finished_at_ms - detail.received_at_ms,
              )}
            />
            <Fact
              label="Time to first token"
              value={milliseconds(
                detail.first_token_at_ms === null ? null : detail.first_token_at_ms - detail.received_at_ms,
              )}
            />
            <Fact
              label="Tokens (in / out / cached / reasoning)"
              value={`${count(detail.input_tokens)} / ${count(detail.output_tokens)} / ${count(detail.cached_input_tokens)} / ${count(detail.reasoning_tokens)}`}
            />
            <Fact label="Cost" value={detail.priced ? usd(detail.cost_usd) : "no price known"} />
            <Fact label="Cache" value={detail.cache || "–"} />
            <Fact
              label="Tags"
              value={
                Object.entries(detail.tags)
                  .map(([key, value]) => `${key}=${value}`)
                  .join(", ") || "–"
              }
            />
            {detail.batch_id && <Fact label="Batch" value={detail.batch_id} />}
          </dl>
          <h2>Provider calls</h2>
          <Timeline attempts={data?.attempts ?? []} start={detail.received_at_ms} />
          <h2>Prompt and completion</h2>
          {detail.prompt || detail.completion ? (
            <div class="content">
              <h3>Prompt</h3>
              <StoredPrompt text={detail.prompt} />
              <h3>Completion</h3>
              <StoredText text={detail.completion} />
              <p class="meta">
                Marked: what the gateway redacted before storing — [EMAIL], [PHONE], [CARD], [SECRET] by a
                route's guardrails, [REDACTED] by analytics.content.redact.
              </p>
            </div>
          ) : (
            <p class="meta">
              Not stored: prompts and completions are kept only where the operator turns content storage on
              (analytics.content.store).
            </p>
          )}
        </>
      )}
    </section>
  );
}

/** Each call as a bar on a shared time axis: where it started, first answered and ended. */
function Timeline(props: { attempts: Attempt[]; start: number }) {
  if (props.attempts.length === 0)
    return (
      <p class="meta">
        No provider call: answered by the gateway itself (a cache hit), or refused before any.
      </p>
    );
  const end = Math.max(...props.attempts.map((attempt) => Number(attempt.finished_at_ms)), props.start + 1);
  const at = (ms: number) => `${((ms - props.start) / (end - props.start)) * 100}%`;
  return (
    <ol class="timeline">
      {props.attempts.map((attempt, index) => (
        <li key={attempt.attempt}>
          <span class="timeline-label">
            {index === 0 ? "Call" : "Then"} {attempt.deployment || "(no deployment)"} — {attempt.outcome}
            {attempt.error_code ? ` (${attempt.error_code}, ${attempt.status})` : ""} ·{" "}
            {count(attempt.input_tokens)} in / {count(attempt.output_tokens)} out
            {attempt.usage_estimated ? " (estimated)" : ""} · {usd(attempt.cost_usd)}
          </span>
          <span class="timeline-track">
            <span
              class={`timeline-bar ${attempt.outcome}`}
              style={{
                left: at(Number(attempt.started_at_ms)),
                width: `calc(${at(Number(attempt.finished_at_ms))} - ${at(Number(attempt.started_at_ms))})`,
              }}
            />
          </span>
        </li>
      ))}
    </ol>
  );
}
