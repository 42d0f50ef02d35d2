import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { mavenClasspath } from "../../local-services/maven.ts";

const run = promisify(execFile);
const here = fileURLToPath(new URL("./helm/", import.meta.url));

/**
 * `helm lint --strict` and `helm template` of a chart, by Helm's own library through helm-java
 * (test/services/helm/): the rendered manifests, or an error with Helm's message.
 */
export async function helmTemplate(
  chart: string,
  options: { release: string; kubeVersion: string; valuesFiles?: string[] },
): Promise<string> {
  const classpath = await mavenClasspath(`${here}pom.xml`, "helm");
  try {
    const { stdout } = await run(
      "java",
      [
        "-cp",
        classpath,
        `${here}HelmTemplate.java`,
        chart,
        options.release,
        options.kubeVersion,
        ...(options.valuesFiles ?? []),
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    return stdout;
  } catch (error) {
    const failure = error as Error & { stderr?: string };
    throw new Error(`helm refused the chart: ${failure.stderr?.trim() || failure.message}`);
  }
}
