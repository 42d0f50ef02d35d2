import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api.ts";

/** A log read a page at a time, newest first: what is loaded so far, and how to ask for more. */
export interface Pages<Row> {
  rows: Row[];
  /** The last page came back short: there is nothing older. */
  done: boolean;
  loading: boolean;
  error: string | undefined;
  /** Loads the page after the last row, unless one is on its way or there is none. */
  more: () => void;
}

/**
 * Pages of a log by keyset: `fetchPage(after, limit)` answers the `limit` rows that follow `after`
 * (from the newest, without one). A change of `deps` starts again from the newest; meanwhile,
 * while no more than the first page is shown, the newest are looked for again every second (live).
 */
export function usePages<Row>(
  fetchPage: (after: Row | undefined, limit: number) => Promise<Row[]>,
  deps: unknown[],
  pageSize = 200,
): Pages<Row> {
  const [rows, setRows] = useState<Row[]>([]);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [revision, setRevision] = useState(0);

  const load = async (after: Row | undefined) => {
    setLoading(true);
    try {
      const page = await fetchPage(after, pageSize);
      setRows((current) => (after ? [...current, ...page] : page));
      setDone(page.length < pageSize);
      setError(undefined);
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : String(failure));
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    void load(undefined);
    const timer = setInterval(() => setRevision((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, deps);
  useEffect(() => {
    // Scrolled further than the first page: a refresh would drop what the reader is looking at.
    if (revision > 0 && rows.length <= pageSize) void load(undefined);
  }, [revision]);

  return {
    rows,
    done,
    loading,
    error,
    more: () => {
      if (!done && !loading) void load(rows.at(-1));
    },
  };
}
