import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * The classpath of a pom's dependencies (`<dir>/*`): jars copied from Maven Central once into a
 * cache outside git, keyed by the pom's content so that a version change fetches anew and a rerun
 * fetches nothing. `name` names the cache folder and the failure.
 */
export async function mavenClasspath(pom: string, name: string): Promise<string> {
  const libs = cacheFolder(pom, name);
  const complete = join(libs, ".complete");
  if (!existsSync(complete)) {
    rmSync(libs, { recursive: true, force: true });
    mkdirSync(libs, { recursive: true });
    await run("mvn", ["-q", "-B", "-f", pom, "dependency:copy-dependencies", `-DoutputDirectory=${libs}`], {
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: Error & { stdout?: string; code?: string }) => {
      const reason =
        error.code === "ENOENT" ? "mvn is not on the PATH" : (error.stdout || error.message).slice(-4000);
      throw new Error(`fetching ${name}'s jars with Maven failed: ${reason}`);
    });
    writeFileSync(complete, "");
  }
  return join(libs, "*");
}

/** True when the pom's jars are in the cache already: Maven is needed only to fetch them. */
export function classpathCached(pom: string, name: string): boolean {
  return existsSync(join(cacheFolder(pom, name), ".complete"));
}

function cacheFolder(pom: string, name: string): string {
  const digest = createHash("sha256").update(readFileSync(pom)).digest("hex").slice(0, 16);
  const cacheRoot =
    process.env.AI_GATEWAY_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "ai-gateway");
  return join(cacheRoot, `${name}-${digest}`, "libs");
}
