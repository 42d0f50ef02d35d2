import type { AddressInfo } from "node:net";
import type { Dispatcher } from "../calls/dispatcher.ts";
import { buildIngress, type IngressOptions } from "../ingress/app.ts";
import { GatewayError } from "../schemas/errors.ts";
import type { GatewayProcess } from "./process.ts";

/**
 * The process's HTTP server: health, readiness and metrics on every role, and the inference and
 * admin APIs where `inference` is given. Returns where it listens.
 */
export async function serveHttp(
  process: GatewayProcess,
  inference?: IngressOptions["inference"],
  dispatcher?: Dispatcher,
): Promise<string> {
  const { config, shutdown } = process;
  const ingress = await buildIngress({
    config: config.server,
    log: process.log,
    checks: process.checks,
    metrics: process.metrics,
    inference,
  });
  shutdown.add({
    name: "HTTP server",
    leftBehind: "requests still open after the grace period, ended with an error",
    stop: async () => {
      ingress.stopAcceptingWork();
      const closed = ingress.app.close();
      if (dispatcher) await drain(dispatcher, config.server.shutdownGraceMs);
      await closed;
    },
  });
  await ingress.app.listen({ host: config.server.host, port: config.server.port });
  return localUrl(ingress.app.server.address());
}

/** Lets in-flight requests finish within the grace period, then ends the rest with an error event. */
async function drain(dispatcher: Dispatcher, graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  while (dispatcher.inFlight > 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  dispatcher.abortAll(
    new GatewayError("overloaded", "the gateway is shutting down; retry the request", { retryAfterMs: 1000 }),
  );
}

/** A URL a local client can use, also when the server listens on every interface. */
function localUrl(address: AddressInfo | string | null): string {
  if (address === null || typeof address === "string")
    throw new Error("the HTTP server is not listening on TCP");
  const wildcard = address.address === "0.0.0.0" || address.address === "::";
  const host = wildcard ? "127.0.0.1" : address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
