import { type FSWatcher, watch } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "../runtime/logger.ts";
import type { ReloadTrigger } from "./live-config.ts";

/** A save raises several events (truncate, write, rename): one reload once they have settled. */
const settleMs = 200;

/**
 * Reloads on SIGHUP and when the configuration file changes. The file's directory is watched, not
 * the file: editors that save by writing a new file and renaming it over the old one, and
 * Kubernetes, which swaps a ConfigMap's files by a symlink in that directory, replace the file a
 * watch on it would follow. Events for other files in the directory cost one read: a reload that
 * finds the same text does nothing. Returns how to stop both.
 */
export function reloadOnChange(
  file: string,
  reload: (trigger: ReloadTrigger) => void,
  log: Logger,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  const onSignal = () => {
    clearTimeout(timer);
    reload("SIGHUP");
  };
  process.on("SIGHUP", onSignal);
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), () => {
      clearTimeout(timer);
      timer = setTimeout(() => reload("file change"), settleMs);
    });
    watcher.on("error", (error) =>
      log.warn({ err: error, file }, "watching the configuration file stopped; SIGHUP still reloads it"),
    );
  } catch (error) {
    log.warn({ err: error, file }, "cannot watch the configuration file; SIGHUP reloads it");
  }
  return () => {
    clearTimeout(timer);
    watcher?.close();
    process.off("SIGHUP", onSignal);
  };
}
