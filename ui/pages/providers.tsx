import { type DeploymentState, deployments, query } from "../api.ts";
import { ErrorAlert } from "../parts/notices.tsx";
import { useLoad } from "../parts/use-query.ts";
import { count, milliseconds } from "../ranges.ts";

interface Health {
  deployment_name: string;
  calls: string;
  failed_calls: string;
  rate_limited_calls: string;
  latency_ms: number[];
  first_token_ms: number[];
}

const healthWindowMs = 15 * 60_000;

/** Each deployment's live state (breaker, quotas, recent latency and errors) and the routes over them. */
export function Providers() {
  const { data, error } = useLoad(
    async () => {
      const now = Date.now();
      const [live, health] = await Promise.all([
        deployments(),
        query<Health>("deployment-health", { from: now - healthWindowMs, to: now + 60_000 }),
      ]);
      return { live, health: new Map(health.rows.map((row) => [row.deployment_name, row])) };
    },
    [],
    2000,
  );
  return (
    <section aria-labelledby="providers-title">
      <header class="page-head">
        <h1 id="providers-title">Providers and routes</h1>
      </header>
      <ErrorAlert message={error} />
      {data?.live.stateUnavailable && (
        <p class="error" role="alert">
          The workers' shared state (Redis) cannot be read now: breakers and quota use are unknown.
        </p>
      )}
      <h2>Deployments</h2>
      <p class="meta">Calls, errors, 429s and latency over the last 15 minutes; breakers and quotas now.</p>
      <div class="table-scroll">
        <table class="plain" aria-label="Deployments">
          <thead>
            <tr>
              <th>Deployment</th>
              <th>Circuit breaker</th>
              <th>Calls</th>
              <th>Error rate</th>
              <th>429s</th>
              <th>Latency p50 / p95</th>
              <th>First token p50 / p95</th>
              <th>Quota use now</th>
            </tr>
          </thead>
          <tbody>
            {(data?.live.deployments ?? []).map((deployment) => {
              const health = data?.health.get(deployment.name);
              const calls = Number(health?.calls ?? 0);
              return (
                <tr key={deployment.name}>
                  <td>
                    <strong>{deployment.name}</strong>
                    <span class="meta"> weight {deployment.weight}</span>
                  </td>
                  <td>
                    <BreakerBadge breaker={deployment.breaker} />
                  </td>
                  <td>{count(calls)}</td>
                  <td>{calls ? `${((Number(health?.failed_calls) / calls) * 100).toFixed(1)} %` : "–"}</td>
                  <td>{count(health?.rate_limited_calls ?? 0)}</td>
                  <td>{pair(health?.latency_ms)}</td>
                  <td>{pair(health?.first_token_ms)}</td>
                  <td>{quotaUse(deployment)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <h2>Routes</h2>
      <div class="table-scroll">
        <table class="plain" aria-label="Routes">
          <thead>
            <tr>
              <th>Model</th>
              <th>Strategy</th>
              <th>Deployments</th>
              <th>Fallbacks</th>
              <th>Cache</th>
            </tr>
          </thead>
          <tbody>
            {(data?.live.routes ?? []).map((route, index) => (
              <tr key={`${route.name}\u0000${index}`}>
                <td>{route.name}</td>
                <td>{route.strategy}</td>
                <td>{route.deployments.join(", ")}</td>
                <td>{route.fallbacks.length ? route.fallbacks.join(" → ") : "–"}</td>
                <td>{route.cacheTtlSeconds ? `${route.cacheTtlSeconds} s` : "–"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function BreakerBadge(props: { breaker: DeploymentState["breaker"] }) {
  const { breaker } = props;
  if (!breaker) return <span class="badge">unknown</span>;
  if (breaker.state === "open")
    return <span class="badge bad">open · half-opens in {Math.ceil(breaker.reopensInMs / 1000)} s</span>;
  return (
    <span class={`badge ${breaker.state === "closed" ? "good" : "warn"}`}>
      {breaker.state.replace("_", "-")}
    </span>
  );
}

const pair = (values: number[] | undefined) => (values?.length ? values.map(milliseconds).join(" / ") : "–");

/** Each quota the deployment has, as used / limit; "no limits" when it has none. */
function quotaUse({ limits, quota }: DeploymentState): string {
  const parts = [
    limits.concurrency && `${quota?.concurrent ?? "?"}/${limits.concurrency} at once`,
    limits.requestsPerMinute &&
      `${quota?.requestsPerMinute ?? "?"}/${count(limits.requestsPerMinute)} req/min`,
    limits.tokensPerMinute &&
      `${count(quota?.tokensPerMinute ?? 0)}/${count(limits.tokensPerMinute)} tokens/min`,
  ].filter(Boolean);
  return parts.length ? parts.join(" · ") : "no limits";
}
