import { useReducer, useState } from "preact/hooks";

/** Sends one change (`send`), then hands its answer to `then`. */
export type Change = <T>(send: () => Promise<T>, then?: (answer: T) => void) => Promise<void>;

/**
 * Changes made through the API from one view: the last one's failure, to show, and a revision that
 * counts the ones that succeeded, for the view's loads to depend on (so they reload after each).
 */
export function useChange() {
  const [failure, setFailure] = useState<string>();
  const [revision, changed] = useReducer((n: number) => n + 1, 0);
  const change: Change = async (send, then) => {
    setFailure(undefined);
    try {
      // Not `then?.(await send())`: without a `then`, that would never call `send`.
      const answer = await send();
      then?.(answer);
      changed(undefined);
    } catch (error) {
      setFailure(error instanceof Error ? error.message : String(error));
    }
  };
  return { change, failure, revision };
}
