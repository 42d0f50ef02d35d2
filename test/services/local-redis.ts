import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { startChildProcessService } from "../../runtime/child-process-service.ts";
import { freePort } from "../../runtime/free-port.ts";
import type { RedisEndpoint, RunningService } from "./endpoints.ts";

const tether = fileURLToPath(new URL("./tether.sh", import.meta.url));

/** A private redis-server on a free port (or `port`), memory only, so tests may flush or kill it at will. */
export async function startLocalRedis(
  workDir: string,
  port?: number,
): Promise<RunningService<RedisEndpoint>> {
  port ??= await freePort();
  const service = await startChildProcessService({
    name: "redis-server",
    command: tether,
    args: [
      "redis-server",
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      workDir,
    ],
    isReady: () => answersPong(port),
    startTimeoutMs: 15_000,
    stopWith: "kill",
  });
  return { endpoint: { url: `redis://127.0.0.1:${port}` }, stop: () => service.stop() };
}

function answersPong(port: number): Promise<boolean> {
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
