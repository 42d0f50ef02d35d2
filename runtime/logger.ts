import { type DestinationStream, type Logger, pino } from "pino";
import type { GatewayConfig } from "../config/schema.ts";

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

export function createLogger(config: GatewayConfig["log"], destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.level,
      base: { service: "ai-gateway", pid: process.pid },
      redact: { paths: secretPaths, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
