import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { roles } from "../../app/roles.ts";
import { environmentVariables } from "../../config/environment.ts";
import { images } from "../services/docker.ts";

// No Docker engine runs here, so docker-compose.yml cannot be started by the suite; these checks
// keep it consistent with what the suite does run.
const compose = parse(readFileSync(new URL("../../docker-compose.yml", import.meta.url), "utf8"), {
  merge: true,
}) as {
  services: Record<
    string,
    { image?: string; build?: string; command?: string[]; environment?: Record<string, string> }
  >;
};

describe("docker-compose.yml", () => {
  it("runs the official images at the versions the tests run", () => {
    expect(compose.services.kafka?.image).toBe(images.kafka);
    expect(compose.services.redis?.image).toBe(images.redis);
    expect(compose.services.clickhouse?.image).toBe(images.clickhouse);
  });

  it("runs the ingress, a worker pool, the analytics sink and the batch coordinator from this repository's image, with roles that exist", () => {
    for (const name of ["ingress", "worker", "sink", "batch"]) {
      const service = compose.services[name];
      expect(service?.build).toBe(".");
      const role = service?.command?.[service.command.indexOf("--role") + 1];
      expect(roles).toContain(role);
    }
  });

  it("has the gateway listen on every interface of its container, where 127.0.0.1 would be unreachable", () => {
    const dockerfile = readFileSync(new URL("../../Dockerfile", import.meta.url), "utf8");
    expect(dockerfile).toMatch(/^ENV .*\bHOST=0\.0\.0\.0\b/m);
    for (const name of ["ingress", "worker", "sink", "batch"])
      expect(compose.services[name]?.environment?.HOST).toBe("0.0.0.0");
  });

  it("configures the gateway only through variables its configuration reads", () => {
    const variables = Object.keys(compose.services.ingress?.environment ?? {});
    expect(variables.length).toBeGreaterThan(0);
    for (const variable of variables) expect(Object.keys(environmentVariables)).toContain(variable);
  });
});
