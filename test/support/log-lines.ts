import { Writable } from "node:stream";
import { type Logger, pino } from "pino";

export type LogLine = { level: number; msg?: string; [field: string]: unknown };

/** A logger whose output a test reads back: every line it wrote, parsed (each must be one JSON line). */
export function capturedLog(level = "info"): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean))
        lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { log: pino({ level }, destination), lines };
}
