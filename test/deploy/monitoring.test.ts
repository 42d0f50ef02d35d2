import { readFileSync } from "node:fs";
import { parser } from "@prometheus-io/lezer-promql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { RunningGateway } from "../../app/gateway.ts";
import { startTestGateway, testConfig } from "../support/gateway.ts";

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Panel {
  title: string;
  targets: { expr: string; refId: string }[];
}

const file = (path: string) =>
  readFileSync(new URL(`../../deploy/monitoring/${path}`, import.meta.url), "utf8");
const rules = (parse(file("alerts.yml")) as { groups: { name: string; rules: AlertRule[] }[] }).groups;
const dashboard = JSON.parse(file("grafana-dashboard.json")) as { uid: string; panels: Panel[] };

/** Series Prometheus makes itself, not the gateway: the scrape's health. */
const prometheusSeries = new Set(["up"]);

/**
 * A PromQL expression parsed with Prometheus's own grammar (the one its UI uses): the metric names
 * it selects, or the text of the first piece it cannot parse. Grafana's `$__rate_interval` is
 * replaced by a duration first, as Grafana does before sending the query.
 */
function parsePromQL(expression: string): { metrics: string[]; error?: string } {
  const query = expression.replaceAll("$__rate_interval", "5m");
  const metrics: string[] = [];
  let error: string | undefined;
  parser.parse(query).iterate({
    enter(node) {
      if (node.type.isError)
        error ??= `cannot parse at ${node.from}: ${query.slice(node.from, node.from + 20)}`;
      if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector")
        metrics.push(query.slice(node.from, node.to));
    },
  });
  return { metrics, ...(error && { error }) };
}

const alertExpressions = rules.flatMap((group) =>
  group.rules.map((rule) => [rule.alert, rule.expr] as const),
);
const panelExpressions = dashboard.panels.flatMap((panel) =>
  panel.targets.map((target) => [`${panel.title} ${target.refId}`, target.expr] as const),
);

describe("the monitoring files in deploy/monitoring", () => {
  let gateway: RunningGateway;
  /** Every series name a gateway exports: each metric family, histograms with their suffixes. */
  const exported = new Set<string>();

  beforeAll(async () => {
    // On the Kafka bus with breakers, so the families only that shape has (lag, breakers, dead letters) are there.
    gateway = await startTestGateway(testConfig("kafka", { routing: { circuitBreakers: true } }));
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exported.add(name as string);
      if (type === "histogram")
        for (const suffix of ["_bucket", "_sum", "_count"]) exported.add(`${name}${suffix}`);
    }
  });

  afterAll(() => gateway?.close());

  it("has alerts that each parse, wait or fire on purpose, and say what to do", () => {
    expect(alertExpressions.length).toBeGreaterThanOrEqual(10);
    for (const group of rules)
      for (const rule of group.rules) {
        expect(parsePromQL(rule.expr).error, rule.alert).toBeUndefined();
        expect(["page", "warn"], rule.alert).toContain(rule.labels?.severity);
        expect(rule.annotations?.summary, rule.alert).toBeTruthy();
        expect(rule.annotations?.description, rule.alert).toBeTruthy();
      }
    expect(new Set(alertExpressions.map(([name]) => name)).size).toBe(alertExpressions.length);
  });

  it("has a Grafana dashboard whose every query parses", () => {
    expect(dashboard.uid).toBe("ai-gateway");
    expect(panelExpressions.length).toBeGreaterThanOrEqual(15);
    for (const [where, expression] of panelExpressions)
      expect(parsePromQL(expression).error, where).toBeUndefined();
  });

  it("names only metrics a running gateway exports", () => {
    expect(exported).toContain("gateway_requests_total");
    for (const [where, expression] of [...alertExpressions, ...panelExpressions]) {
      const { metrics } = parsePromQL(expression);
      expect(metrics.length, where).toBeGreaterThan(0);
      for (const metric of metrics)
        expect(exported.has(metric) || prometheusSeries.has(metric), `${where}: ${metric}`).toBe(true);
    }
  });
});
