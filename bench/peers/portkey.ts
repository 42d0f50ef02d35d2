import { fileURLToPath } from "node:url";
import { startChildProcessService } from "../../runtime/child-process-service.ts";
import { freePort } from "../../runtime/free-port.ts";
import { benchProviderKey } from "../chat-call.ts";
import type { RunningTarget } from "./target.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const entry = "node_modules/@portkey-ai/gateway/build/start-server.js";

/**
 * The Portkey gateway from npm (its own server, as `npx @portkey-ai/gateway` starts it) under
 * `node`, headless (no log console) and with NODE_ENV=production as a deployment runs it. It
 * takes the upstream from each request's headers: provider `openai` at the emulator's URL, the
 * emulator's key as the caller's bearer token, passed through.
 */
export async function startPortkey(node: string, upstreamUrl: string): Promise<RunningTarget> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const service = await startChildProcessService({
    name: "the Portkey gateway",
    command: node,
    args: [entry, `--port=${port}`, "--headless"],
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NODE_ENV: "production" },
    isReady: async () => (await fetch(origin)).ok,
    startTimeoutMs: 20_000,
    stopWith: "kill",
  });
  return {
    origin,
    headers: {
      authorization: `Bearer ${benchProviderKey}`,
      "x-portkey-provider": "openai",
      "x-portkey-custom-host": upstreamUrl,
    },
    pids: [service.pid],
    servicePids: [],
    stop: () => service.stop(),
  };
}
