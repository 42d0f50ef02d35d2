import { connect } from "node:net";
import { startChildProcessService } from "../runtime/child-process-service.ts";
import { freePort } from "../runtime/free-port.ts";
import { type LocalServiceOptions, launch, type RunningLocalService } from "./service.ts";

/**
 * A private redis-server on a free port (or `port`). Tied to our life it keeps memory only, so that
 * tests may flush or kill it at will; detached (`logFile`), it keeps an append-only file in
 * `workDir`, so that a cluster started again has its batches, claims and keys.
 */
export async function startLocalRedis(
  workDir: string,
  options: LocalServiceOptions & { port?: number } = {},
): Promise<RunningLocalService<{ url: string }>> {
  const port = options.port ?? (await freePort());
  const persistence = options.logFile ? ["--appendonly", "yes"] : ["--save", "", "--appendonly", "no"];
  const service = await startChildProcessService({
    name: "redis-server",
    ...launch(
      ["redis-server", "--port", String(port), "--bind", "127.0.0.1", ...persistence, "--dir", workDir],
      options,
    ),
    isReady: () => answersPong(port),
    startTimeoutMs: 15_000,
  });
  return { endpoint: { url: `redis://127.0.0.1:${port}` }, pid: service.pid, stop: () => service.stop() };
}

/** True when a Redis server at `port` on loopback answers PING. */
export function answersPong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.setTimeout(1_000, () => socket.destroy());
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      resolve(data.toString().startsWith("+PONG"));
      socket.destroy();
    });
    socket.once("error", () => resolve(false));
    socket.once("close", () => resolve(false));
  });
}
