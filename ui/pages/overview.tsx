import { useMemo, useState } from "preact/hooks";
import { query } from "../api.ts";
import { type Series, TimeChart } from "../parts/chart.tsx";
import { Choice, RangeChoice } from "../parts/choice.tsx";
import { ErrorAlert, Tile } from "../parts/notices.tsx";
import { useLoad } from "../parts/use-query.ts";
import { boundsOf, count, milliseconds, type Range, ranges, spanOf, usd } from "../ranges.ts";

/** Requests that called more than one deployment, in one time step (or the whole range: totals). */
interface FailoverStep {
  at: number;
  failed_over: string;
  failed_over_and_answered: string;
}

/** One step of one series; the range's totals come in the same shape. */
interface Point {
  at: number;
  series: string;
  total_requests: string;
  total_errors: string;
  cache_hits: string;
  cacheable: string;
  total_input_tokens: string;
  total_output_tokens: string;
  total_cost: number;
  total_cost_saved: string;
  duration_quantiles: number[];
  ttft_quantiles: number[];
}

const splits = [
  { id: "", label: "all" },
  { id: "model", label: "model" },
  { id: "deployment", label: "deployment" },
  { id: "team", label: "team" },
] as const;

/** How much traffic, how fast, how costly: live, over a chosen range, split as asked. */
export function Overview() {
  const [range, setRange] = useState<Range>(ranges[0]);
  const [split, setSplit] = useState("");
  const { data, error } = useLoad(
    async () => {
      const { from, to } = boundsOf(range);
      // The totals come with the series (WITH TOTALS): one scan of the rollups for both.
      const [series, failovers] = await Promise.all([
        query<Point>("overview-series", { from, to, step: range.stepSeconds, split }),
        query<FailoverStep>("overview-failovers", { from, to, step: range.stepSeconds }),
      ]);
      return {
        totals: series.totals as Point | undefined,
        points: series.rows,
        failoverSteps: failovers.rows,
        failovers: Number(failovers.totals?.failed_over ?? 0),
      };
    },
    [range, split],
    1000,
  );
  const charts = useMemo(() => chartsOf(data?.points ?? [], range), [data?.points, range]);
  const span = spanOf(range);
  const totals = data?.totals;
  const requests = Number(totals?.total_requests ?? 0);
  return (
    <section aria-labelledby="overview-title">
      <header class="page-head">
        <h1 id="overview-title">Overview</h1>
        <RangeChoice value={range} onChange={setRange} />
        <Choice label="Split by" options={[...splits]} value={split} onChange={setSplit} />
      </header>
      <ErrorAlert message={error} />
      <div class="tiles">
        <Tile
          label="Requests"
          value={count(requests)}
          detail={`${(requests / (range.ms / 1000)).toFixed(2)}/s`}
        />
        <Tile
          label="Error rate"
          value={requests ? `${((Number(totals?.total_errors ?? 0) / requests) * 100).toFixed(1)} %` : "–"}
        />
        <Tile
          label="Latency p50 / p95 / p99"
          value={(totals?.duration_quantiles ?? []).map(milliseconds).join(" / ") || "–"}
        />
        <Tile
          label="Time to first token p50 / p95 / p99"
          value={(totals?.ttft_quantiles ?? []).map(milliseconds).join(" / ") || "–"}
        />
        <Tile
          label="Tokens in / out"
          value={`${count(totals?.total_input_tokens ?? 0)} / ${count(totals?.total_output_tokens ?? 0)}`}
        />
        <Tile
          label="Cost"
          value={usd(totals?.total_cost ?? 0)}
          detail={`saved by the cache ${usd(totals?.total_cost_saved ?? 0)}`}
        />
        <Tile
          label="Cache hit rate"
          value={
            Number(totals?.cacheable ?? 0)
              ? `${((Number(totals?.cache_hits ?? 0) / Number(totals?.cacheable)) * 100).toFixed(1)} %`
              : "–"
          }
        />
        <Tile
          label="Failovers"
          value={count(data?.failovers ?? 0)}
          detail="requests that called more than one deployment"
        />
      </div>
      {/* The charts are made once the first answer is here: made before, their setup (children's
          effects run first) would hold back the queries themselves. */}
      <div class="charts" aria-busy={data === undefined}>
        {data !== undefined && (
          <>
            <TimeChart
              span={span}
              title="Requests per second"
              times={charts.times}
              series={charts.rate}
              unit="/s"
            />
            <TimeChart span={span} title="Error rate" times={charts.times} series={charts.errors} unit=" %" />
            <TimeChart span={span} title="Latency (ms)" times={charts.times} series={charts.latency} />
            <TimeChart
              span={span}
              title="Time to first token (ms)"
              times={charts.times}
              series={charts.ttft}
            />
            <TimeChart span={span} title="Tokens" times={charts.times} series={charts.tokens} />
            <TimeChart span={span} title="Cost (USD)" times={charts.times} series={charts.cost} />
            <TimeChart
              span={span}
              title="Cache hit rate"
              times={charts.times}
              series={charts.cacheHits}
              unit=" %"
            />
            <TimeChart
              span={span}
              title="Failovers"
              times={(data?.failoverSteps ?? []).map((step) => Number(step.at))}
              series={failoverLines(data?.failoverSteps ?? [])}
            />
          </>
        )}
      </div>
    </section>
  );
}

/** The charts' lines: one per series (split), or p50/p95/p99 when not split. */
function chartsOf(points: Point[], range: Range) {
  const times = [...new Set(points.map((point) => Number(point.at)))].sort((a, b) => a - b);
  const names = [...new Set(points.map((point) => point.series))];
  const at = new Map(points.map((point) => [`${point.at}\u0000${point.series}`, point]));
  const line = (label: string, name: string, value: (point: Point) => number) => ({
    label,
    values: times.map((time) => {
      const point = at.get(`${time}\u0000${name}`);
      return point ? value(point) : null;
    }),
  });
  const perSeries = (value: (point: Point) => number): Series[] =>
    names.map((name) => line(name, name, value));
  const quantiles = (field: "duration_quantiles" | "ttft_quantiles"): Series[] =>
    names.length === 1 && names[0] === "all"
      ? ["p50", "p95", "p99"].map((label, index) => line(label, "all", (point) => point[field][index] ?? 0))
      : perSeries((point) => point[field][1] ?? 0);
  return {
    times,
    rate: perSeries((point) => Number(point.total_requests) / range.stepSeconds),
    errors: perSeries(
      (point) => (Number(point.total_errors) / Math.max(1, Number(point.total_requests))) * 100,
    ),
    latency: quantiles("duration_quantiles"),
    ttft: quantiles("ttft_quantiles"),
    tokens: perSeries((point) => Number(point.total_input_tokens) + Number(point.total_output_tokens)),
    cost: perSeries((point) => Number(point.total_cost)),
    // Of the lookups the cache could answer (requests that bypassed it are not counted).
    cacheHits: perSeries((point) =>
      Number(point.cacheable) ? (Number(point.cache_hits) / Number(point.cacheable)) * 100 : 0,
    ),
  };
}

/** Failovers per step, and how many of them still answered. */
function failoverLines(steps: FailoverStep[]): Series[] {
  return [
    { label: "failed over", values: steps.map((step) => Number(step.failed_over)) },
    { label: "and answered", values: steps.map((step) => Number(step.failed_over_and_answered)) },
  ];
}
