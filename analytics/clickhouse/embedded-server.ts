import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type ChildProcessService, startChildProcessService } from "../../runtime/child-process-service.ts";
import { freePort } from "../../runtime/free-port.ts";
import { answersOk } from "../../runtime/http-probe.ts";
import { DataDirectoryInUse } from "../../runtime/start-failures.ts";
import { configXml, usersXml, type XmlReader } from "../reader/users-xml.ts";

export interface EmbeddedClickHouse {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const launcher = fileURLToPath(new URL("./launch-embedded.py", import.meta.url));

/**
 * Starts ClickHouse from the chdb npm package as a real HTTP server on a loopback port: the same
 * SQL, engines and client protocol as a ClickHouse server, with nothing to install but npm packages.
 * Its users are `default` and, when given, the reader that admin SQL runs as. It stops with the
 * process that started it, or, given a `logFile`, runs on detached until SIGTERM (`ai-gateway cluster`).
 */
export async function startEmbeddedClickHouse(options: {
  dataDir: string;
  port?: number;
  reader?: XmlReader;
  logFile?: string;
}): Promise<EmbeddedClickHouse> {
  const library = findLibchdb();
  const dataDir = resolve(options.dataDir);
  const configFile = writeUserConfig(join(dataDir, "config"), options.reader);
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const service: ChildProcessService = await startChildProcessService({
    name: "embedded ClickHouse",
    command: process.env.PYTHON ?? "python3",
    args: [launcher, library, dataDir, String(port), configFile],
    isReady: () => answersOk(`${url}/ping`),
    startTimeoutMs: 60_000,
    // The launcher stops ClickHouse cleanly on either: its stdin's end, or SIGTERM once detached.
    stopWith: options.logFile ? "terminate" : "close-stdin",
    logFile: options.logFile,
  }).catch((error: Error) => {
    // ClickHouse locks `status` in its data directory for as long as it runs: another gateway's does.
    if (error.message.includes("Cannot lock file"))
      throw new DataDirectoryInUse(options.dataDir, gatewayHolding(dataDir), error);
    if (error.message.includes("ENOENT")) {
      throw new Error(
        "embedded ClickHouse needs python3 on the PATH (or set CLICKHOUSE_URL to a ClickHouse server)",
      );
    }
    throw error;
  });
  return { url, pid: service.pid, stop: () => service.stop() };
}

/**
 * The gateway whose ClickHouse holds `dataDir`: ClickHouse writes its pid in the `status` file it
 * locks, and that process is a gateway's launcher child. Undefined where the system does not say
 * (no /proc: not Linux).
 */
function gatewayHolding(dataDir: string): number | undefined {
  try {
    const clickhousePid = /^PID: (\d+)/m.exec(readFileSync(join(dataDir, "status"), "utf8"))?.[1];
    // /proc/<pid>/stat: "pid (command) state ppid …"; the command may hold spaces, not ")".
    const stat = readFileSync(`/proc/${clickhousePid}/stat`, "utf8");
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    return parent > 1 ? parent : undefined;
  } catch {
    return undefined;
  }
}

/** Writes users.xml and the config.xml naming it, anew at every start; returns the config.xml's path. */
function writeUserConfig(dir: string, reader: XmlReader | undefined): string {
  mkdirSync(dir, { recursive: true });
  const users = join(dir, "users.xml");
  writeFileSync(users, usersXml(reader));
  const config = join(dir, "config.xml");
  writeFileSync(config, configXml(users));
  return config;
}

/** libchdb.so ships in a per-platform npm package, an optional dependency of this project. */
function findLibchdb(): string {
  const variant = process.platform === "linux" ? "-gnu" : "";
  const packageName = `@chdb/lib-${process.platform}-${process.arch}${variant}`;
  try {
    const packageJson = createRequire(import.meta.url).resolve(`${packageName}/package.json`);
    return join(dirname(packageJson), process.platform === "darwin" ? "libchdb.dylib" : "libchdb.so");
  } catch {
    throw new Error(
      `embedded ClickHouse needs the npm package ${packageName}, which is not installed ` +
        "(chdb ships it for linux-x64 only). Set CLICKHOUSE_URL to a ClickHouse server instead.",
    );
  }
}
