import { roles } from "../app/roles.ts";
import { loadConfigOrSayWhy } from "./configuration.ts";

/** A signal this soon after the first is the same one delivered twice, not a second request. */
const sameSignalWithinMs = 1_000;

/**
 * `ai-gateway start`: runs the gateway until SIGINT or SIGTERM. Its modules (Kafka, ClickHouse,
 * fastify and the rest) take seconds to load, so they are loaded here, when a gateway is started,
 * and not by every command of the CLI. (Here and not in bin/gateway.ts: tsx 4.23 fails to parse a
 * dynamic import in a file with a hashbang, privatenumber/tsx#842.)
 */
export async function start(roleName: string): Promise<number> {
  const [{ startGateway }, { createLogger, logFormatOf }, { renderBanner }, { startFailureSentence }] =
    await Promise.all([
      import("../app/gateway.ts"),
      import("../runtime/logger.ts"),
      import("../runtime/banner.ts"),
      import("../runtime/start-failures.ts"),
    ]);
  const role = roles.find((name) => name === roleName);
  if (!role) {
    process.stderr.write(`--role must be one of ${roles.join(", ")}\n`);
    return 2;
  }
  const loaded = await loadConfigOrSayWhy();
  if (!loaded) return 2;
  const { config } = loaded;
  const log = createLogger(config.log);
  // SIGHUP and changes to the file reload it (app/live-config.ts); the environment is read once.
  const source = { file: loaded.file, env: process.env };
  const gateway = await startGateway(config, log, role, source).catch((error: Error) => {
    // A failure the gateway knows is one sentence naming the fix; its stack is for debugging.
    const sentence = startFailureSentence(error);
    if (sentence) {
      log.debug({ err: error }, "why the gateway could not start");
      log.fatal(sentence);
    } else log.fatal({ err: error }, "the gateway could not start");
    return undefined;
  });
  if (!gateway) return 1;
  log.info({ url: gateway.url, role }, "gateway ready");
  if (gateway.announcement) process.stderr.write(renderBanner(gateway.announcement, logFormatOf(config.log)));

  return new Promise<number>((resolve) => {
    let stoppingSince: number | undefined;
    const stop = (signal: NodeJS.Signals) => {
      if (stoppingSince !== undefined) {
        // One Ctrl-C can arrive twice: from the terminal and passed on by npm or our launcher.
        if (Date.now() - stoppingSince < sameSignalWithinMs) return;
        log.warn({ signal }, "second signal: exiting without waiting");
        process.exit(130);
      }
      stoppingSince = Date.now();
      log.info({ signal, graceMs: config.server.shutdownGraceMs }, "shutting down");
      gateway.close().then(
        () => {
          log.info("stopped");
          resolve(0);
        },
        (error: Error) => {
          log.error({ err: error }, "shutdown failed");
          resolve(1);
        },
      );
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
