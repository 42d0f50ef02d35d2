import { type DestinationStream, type Logger, pino } from "pino";
import type { GatewayConfig } from "../config/schema.ts";
import { prettyDestination } from "./pretty-log.ts";

export type { Logger };

/**
 * Paths that may hold secrets. Prompt text is never logged by the gateway's own code; these cover
 * what frameworks log by themselves (request headers) and config echoes.
 */
const secretPaths = [
  "req.headers.authorization",
  'req.headers["x-api-key"]',
  'req.headers["api-key"]',
  "*.password",
  "*.apiKey",
  "*.key",
];

/** What every line carries besides its own fields. */
export const logBase = { service: "ai-gateway", pid: process.pid };

/** `auto` decided: pretty for a person at a terminal, JSON for a pipe, a container or a log shipper. */
export function logFormatOf(config: GatewayConfig["log"]): "pretty" | "json" {
  if (config.format !== "auto") return config.format;
  return process.stdout.isTTY ? "pretty" : "json";
}

/**
 * The gateway's logger: JSON lines, or readable ones (runtime/pretty-log.ts) printed from those
 * same lines after redaction, so that what is hidden is hidden in both formats. `destination`:
 * where lines go instead of stdout (tests).
 */
export function createLogger(config: GatewayConfig["log"], destination?: DestinationStream): Logger {
  const out = destination ?? pino.destination(1);
  return pino(
    {
      level: config.level,
      base: logBase,
      redact: { paths: secretPaths, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    logFormatOf(config) === "json"
      ? out
      : prettyDestination(out, {
          colour: destination === undefined && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
          stacks: config.level === "debug" || config.level === "trace",
        }),
  );
}
