import { useState } from "preact/hooks";
import { admin, type QueryResult } from "../api.ts";
import { ErrorAlert } from "../parts/notices.tsx";
import { ResultChart } from "../parts/result-chart.tsx";
import { ResultTable } from "../parts/result-table.tsx";
import { useLoad } from "../parts/use-query.ts";
import { count } from "../ranges.ts";

type Result = QueryResult<Record<string, unknown>>;

interface Report {
  name: string;
  description: string;
}

const firstQuery = `SELECT toStartOfMinute(received_at) AS minute, count() AS requests
FROM requests
WHERE received_at >= now() - INTERVAL 1 HOUR
GROUP BY minute
ORDER BY minute`;

/** Admin SQL over the analytics tables, and the named reports a click away; each answer as a chart and a table. */
export function Sql() {
  const reports = useLoad(() => admin.get<{ reports: Report[] }>("/admin/analytics/reports"), []);
  const [shown, setShown] = useState<{ what: string; result: Result }>();
  const [error, setError] = useState<string>();
  const [running, setRunning] = useState(false);

  const run = async (what: string, ask: () => Promise<Result>) => {
    if (running) return;
    setRunning(true);
    setError(undefined);
    try {
      setShown({ what, result: await ask() });
    } catch (failure) {
      // The last answer stays out of sight: it would read as this statement's.
      setShown(undefined);
      setError((failure as Error).message);
    } finally {
      setRunning(false);
    }
  };
  const runSql = (sql: string) =>
    run("Query", () => admin.send<Result>("POST", "/admin/analytics/query", { sql }));
  const runReport = (report: Report) =>
    run(`Report ${report.name}, the last 24 hours`, () =>
      admin.get<Result>(`/admin/analytics/reports/${encodeURIComponent(report.name)}`),
    );

  return (
    <section aria-labelledby="sql-title">
      <header class="page-head">
        <h1 id="sql-title">SQL</h1>
      </header>
      <form
        class="sql-editor"
        onSubmit={(event) => {
          event.preventDefault();
          void runSql(String(new FormData(event.currentTarget).get("sql") ?? ""));
        }}
      >
        <label>
          Query (ClickHouse SQL, read-only)
          <textarea
            name="sql"
            rows={6}
            spellcheck={false}
            defaultValue={firstQuery}
            onKeyDown={(event) => {
              if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
                event.preventDefault();
                event.currentTarget.form?.requestSubmit();
              }
            }}
          />
        </label>
        <div class="sql-actions">
          <button type="submit" disabled={running}>
            Run
          </button>
          <span class="meta">Ctrl+Enter (⌘+Enter) runs it too.</span>
        </div>
      </form>
      <section class="reports" aria-labelledby="reports-title">
        <h2 id="reports-title">Reports</h2>
        <ErrorAlert message={reports.error} />
        <div class="report-buttons">
          {reports.data?.reports.map((report) => (
            <button
              key={report.name}
              type="button"
              title={report.description}
              disabled={running}
              onClick={() => void runReport(report)}
            >
              {report.name}
            </button>
          ))}
        </div>
      </section>
      <ErrorAlert message={error} />
      <p class="meta" aria-live="polite">
        {running
          ? "Running…"
          : shown &&
            `${shown.what}: ${count(shown.result.rows.length)} row${shown.result.rows.length === 1 ? "" : "s"} in ${shown.result.elapsedMs} ms`}
      </p>
      {shown && (
        <div class="sql-result">
          <ResultChart result={shown.result} />
          <ResultTable label="Result" result={shown.result} />
        </div>
      )}
    </section>
  );
}
