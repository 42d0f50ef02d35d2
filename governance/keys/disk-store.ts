import { type FileHandle, mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { oneAtATime, readWholeLines, writeAtomically } from "../../runtime/disk-files.ts";
import type { Logger } from "../../runtime/logger.ts";
import { governanceRecordCodec } from "../../schemas/index.ts";
import type { KeyStore } from "../contracts.ts";
import { createView, writesTo } from "./view.ts";

/**
 * One line of the log: an entry's name and its record in Avro (base64) with the writer's schema
 * version, as on Kafka, so that a later build reads it through schema resolution; a null value
 * is a tombstone.
 */
interface Line {
  name: string;
  version: number;
  value: string | null;
}

/** Superseded lines a start tolerates before rewriting the log with the live ones only. */
const compactAbove = 1000;

/**
 * Keys and teams for a gateway of one process: an append-only log in `directory`, read whole
 * into the view at start. Each write is on disk (synced) before it is in the view.
 */
export function createDiskKeyStore(directory: string, log: Logger): KeyStore {
  const path = join(directory, "governance.log");
  const { apply, ...lookups } = createView();
  // One append at a time: the log's order is the order the view applies them in.
  const inTurn = oneAtATime();
  let file: FileHandle | undefined;
  let size = 0;

  const decode = ({ value, version }: Line) =>
    value === null ? null : governanceRecordCodec.decode(Buffer.from(value, "base64"), version);

  return {
    ...lookups,
    ...writesTo((name, record) =>
      inTurn("log", async () => {
        if (file === undefined) throw new Error("the key store is not started");
        const line: Line = {
          name,
          version: governanceRecordCodec.version,
          value: record && governanceRecordCodec.encode(record).toString("base64"),
        };
        const text = `${JSON.stringify(line)}\n`;
        try {
          await file.write(text);
          await file.datasync();
        } catch (error) {
          // A line written in part would run into the next one: cut it off (the view never had it).
          await file.truncate(size).catch(() => {});
          throw error;
        }
        size += Buffer.byteLength(text);
        apply(name, decode(line));
      }),
    ),
    async start() {
      await mkdir(directory, { recursive: true });
      const lines = await readWholeLines(path);
      // Each name's last line, unless it is a tombstone: what a compacted log keeps.
      const live = new Map<string, string>();
      for (const [index, text] of lines.entries()) {
        try {
          const line = JSON.parse(text) as Line;
          apply(line.name, decode(line));
          if (line.value === null) live.delete(line.name);
          else live.set(line.name, text);
        } catch (error) {
          log.error({ err: error, path, line: index + 1 }, "undecodable governance entry skipped");
        }
      }
      const superseded = lines.length - live.size;
      if (superseded > compactAbove && superseded > live.size) {
        const content = [...live.values()].map((text) => `${text}\n`).join("");
        await writeAtomically(path, content, { durable: true });
        log.info({ path, entries: live.size, dropped: superseded }, "governance log compacted");
      }
      file = await open(path, "a");
      size = (await file.stat()).size;
    },
    async close() {
      await inTurn.settled();
      await file?.close();
      file = undefined;
    },
  };
}
