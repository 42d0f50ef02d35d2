import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { roles } from "../../app/roles.ts";
import { workerGroup } from "../../bus/kafka/topics.ts";
import { environmentVariables } from "../../config/environment.ts";
import { parseConfig } from "../../config/load.ts";
import { helmTemplate } from "../services/helm.ts";

/**
 * The Helm chart in deploy/helm, rendered by Helm itself (lint --strict, then template) and every
 * object validated against Kubernetes' published OpenAPI schemas (kubernetes-models, generated
 * from them; KEDA's ScaledObject from KEDA's CRD), then held to what the gateway needs.
 */
const chart = fileURLToPath(new URL("../../deploy/helm/ai-gateway", import.meta.url));
const kubeVersion = "1.31.0";
const dir = mkdtempSync(join(tmpdir(), "helm-values-"));

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  // biome-ignore lint/suspicious/noExplicitAny: rendered YAML, checked field by field below
  spec?: any;
  data?: Record<string, string>;
}

function valuesFile(name: string, values: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(path, stringify(values));
  return path;
}

async function render(values: Record<string, unknown> = {}): Promise<Manifest[]> {
  const valuesFiles = Object.keys(values).length > 0 ? [valuesFile(`${Math.random()}.yaml`, values)] : [];
  const text = await helmTemplate(chart, { release: "gw", kubeVersion, valuesFiles });
  return parseAllDocuments(text)
    .map((document) => document.toJS() as Manifest | null)
    .filter((manifest): manifest is Manifest => manifest !== null);
}

/** The model class of an object's kind, from the package of its API group. */
async function schemaOf(manifest: Manifest): Promise<new (data: unknown) => { validate(): void }> {
  const { apiVersion, kind } = manifest;
  const module: Record<string, unknown> = apiVersion.startsWith("keda.sh/")
    ? await import(`@kubernetes-models/keda/${apiVersion}`)
    : await import(`kubernetes-models/${apiVersion}`);
  const model = module[kind];
  if (typeof model !== "function") throw new Error(`no published schema for ${apiVersion} ${kind}`);
  return model as new (
    data: unknown,
  ) => { validate(): void };
}

const byKind = (manifests: Manifest[], kind: string) =>
  manifests.filter((manifest) => manifest.kind === kind);
const deploymentOf = (manifests: Manifest[], role: string) =>
  byKind(manifests, "Deployment").find((deployment) => deployment.metadata.name === `gw-ai-gateway-${role}`);

describe("the Helm chart", () => {
  let defaults: Manifest[];

  beforeAll(async () => {
    defaults = await render();
  }, 180_000);

  it("renders objects that Kubernetes' schemas accept", async () => {
    expect(defaults.length).toBeGreaterThanOrEqual(10);
    for (const manifest of defaults) {
      const Model = await schemaOf(manifest);
      expect(
        () => new Model(manifest).validate(),
        `${manifest.kind} ${manifest.metadata.name}`,
      ).not.toThrow();
    }
  });

  it("runs one Deployment per role, each probed, drained and given the grace its shutdown needs", () => {
    const served = roles.filter((role) => role !== "all");
    expect(byKind(defaults, "Deployment")).toHaveLength(served.length);
    for (const role of served) {
      const deployment = deploymentOf(defaults, role);
      const pod = deployment?.spec.template.spec;
      const container = pod?.containers[0];
      expect(container?.args, role).toEqual(["start", "--role", role]);
      expect(container.livenessProbe.httpGet.path).toBe("/healthz");
      expect(container.readinessProbe.httpGet.path).toBe("/readyz");
      const env = Object.fromEntries(
        container.env.map((item: { name: string; value?: string }) => [item.name, item.value]),
      );
      const graceMs = Number(env.GATEWAY_SHUTDOWN_GRACE_MS);
      const preStop = Number(container.lifecycle.preStop.exec.command[1]);
      // Kubernetes kills at the end of the period: it must outlast preStop, the grace and the 5 s after it.
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + graceMs / 1000 + 5);
      const budget = byKind(defaults, "PodDisruptionBudget").find(
        (pdb) => pdb.metadata.name === deployment?.metadata.name,
      );
      expect(budget?.spec.selector.matchLabels).toEqual(deployment?.spec.selector.matchLabels);
    }
  });

  it("sets only variables the gateway reads, secrets by reference, and a config file the gateway loads", () => {
    const configMap = byKind(defaults, "ConfigMap")[0];
    const file = configMap?.data?.["gateway.yaml"] ?? "";
    const referenced = [...file.matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]);
    const container = deploymentOf(defaults, "worker")?.spec.template.spec.containers[0];
    const names: string[] = container.env.map((item: { name: string }) => item.name);
    for (const name of names)
      expect(
        name in environmentVariables || name === "GATEWAY_CONFIG" || referenced.includes(name),
        name,
      ).toBe(true);
    expect(container.envFrom).toEqual([{ secretRef: { name: "ai-gateway" } }]);
    expect(names.some((name) => /KEY|SECRET|PASSWORD/.test(name))).toBe(false);
    const env = Object.fromEntries(
      container.env.map((item: { name: string; value: string }) => [item.name, item.value]),
    );
    const secrets = Object.fromEntries(referenced.map((name) => [name, "from-the-secret"]));
    const config = parseConfig(file, "gateway.yaml", { ...env, ...secrets });
    expect(config.kafka.brokers).toEqual(["kafka:9092"]);
    expect(config.kafka.replicationFactor).toBe(3);
    expect(config.server.shutdownGraceMs).toBe(10_000);
  });

  it("scales the ingress on CPU, leaving its replicas to the autoscaler", () => {
    const [autoscaler] = byKind(defaults, "HorizontalPodAutoscaler");
    expect(autoscaler?.spec.scaleTargetRef.name).toBe("gw-ai-gateway-ingress");
    expect(autoscaler?.spec.metrics[0].resource.name).toBe("cpu");
    expect(deploymentOf(defaults, "ingress")?.spec.replicas).toBeUndefined();
    expect(byKind(defaults, "ScaledObject")).toHaveLength(0);
  });

  it("scales workers on the Kafka lag of their consumer group with KEDA when asked", async () => {
    const manifests = await render({
      kafka: { brokers: "b1:9092,b2:9092", topicPrefix: "prod.", partitions: 24, replicationFactor: 3 },
      roles: {
        worker: {
          replicas: 2,
          podDisruptionBudget: { maxUnavailable: 1 },
          keda: { enabled: true, lagThreshold: 20 },
        },
      },
      secretEnv: { OPENAI_API_KEY: { name: "providers", key: "openai" } },
    });
    const [scaled] = byKind(manifests, "ScaledObject");
    const Model = await schemaOf(scaled as Manifest);
    expect(() => new Model(scaled).validate()).not.toThrow();
    expect(scaled?.spec.scaleTargetRef.name).toBe("gw-ai-gateway-worker");
    const trigger = scaled?.spec.triggers[0];
    expect(trigger.type).toBe("kafka");
    expect(trigger.metadata.consumerGroup).toBe(workerGroup({ topicPrefix: "prod." } as never));
    expect(trigger.metadata.bootstrapServers).toBe("b1:9092,b2:9092");
    expect(deploymentOf(manifests, "worker")?.spec.replicas).toBeUndefined();
    const env = deploymentOf(manifests, "worker")?.spec.template.spec.containers[0].env;
    expect(env).toContainEqual({
      name: "OPENAI_API_KEY",
      valueFrom: { secretKeyRef: { name: "providers", key: "openai" } },
    });
  }, 180_000);

  it("is refused by Helm with values its schema does not allow", async () => {
    await expect(render({ redis: { url: "localhost:6379" } })).rejects.toThrow(/redis\.url|url/);
    await expect(render({ roles: { sink: { replica: 2 } } })).rejects.toThrow(/replica/);
  }, 180_000);
});
