import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api.ts";

/**
 * Loads with `load` whenever `deps` change, and again every `everyMs` (live views); keeps the last
 * data while a new load is on its way, and says what went wrong if one fails.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number) {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    const run = () =>
      load().then(
        (value) => {
          if (!live) return;
          setData(value);
          setError(undefined);
        },
        (failure: unknown) =>
          live && setError(failure instanceof ApiError ? failure.message : String(failure)),
      );
    void run();
    const timer = everyMs ? setInterval(run, everyMs) : undefined;
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, deps);
  return { data, error };
}
