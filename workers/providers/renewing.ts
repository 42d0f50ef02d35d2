/**
 * A credential a provider fetches when first needed and keeps until its renewal time, so that no
 * call starts with one about to expire: one fetch at a time, shared by every call that needs it
 * meanwhile (AWS's temporary keys, Google's access tokens).
 */
export interface Renewing<T> {
  /** The kept value while it is before its renewal time, else the result of the one fetch under way. */
  get(): Promise<T>;
  /** The provider refused the kept value if `refused` says so: the next get fetches anew. */
  forgetIf(refused: (kept: T) => boolean): void;
}

export function renewing<T>(fetch: () => Promise<T>, renewAtMs: (value: T) => number): Renewing<T> {
  let kept: T | undefined;
  let fetching: Promise<T> | undefined;
  return {
    async get() {
      if (kept !== undefined && Date.now() < renewAtMs(kept)) return kept;
      fetching ??= fetch().finally(() => {
        fetching = undefined;
      });
      kept = await fetching;
      return kept;
    },
    forgetIf(refused) {
      if (kept !== undefined && refused(kept)) kept = undefined;
    },
  };
}
