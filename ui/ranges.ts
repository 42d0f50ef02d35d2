/** The time ranges the views offer, with the step their charts bucket by. */
export const ranges = [
  { id: "15m", label: "15 min", ms: 15 * 60_000, stepSeconds: 60 },
  { id: "1h", label: "1 h", ms: 60 * 60_000, stepSeconds: 60 },
  { id: "24h", label: "24 h", ms: 24 * 60 * 60_000, stepSeconds: 15 * 60 },
  { id: "7d", label: "7 d", ms: 7 * 24 * 60 * 60_000, stepSeconds: 60 * 60 },
  { id: "30d", label: "30 d", ms: 30 * 24 * 60 * 60_000, stepSeconds: 6 * 60 * 60 },
] as const;

export type Range = (typeof ranges)[number];

/** The range's bounds now: from its start to a minute ahead (the current minute's rows count). */
export function boundsOf(range: Range, now = Date.now()) {
  return { from: now - range.ms, to: now + 60_000 };
}

/**
 * A chart's time axis for the range, in seconds: the whole range to the end of the current minute,
 * so that a live chart keeps its axis (and is not redrawn anew) until the minute turns.
 */
export function spanOf(range: Range, now = Date.now()): [number, number] {
  const minuteEnd = Math.floor(now / 60_000) * 60 + 60;
  return [minuteEnd - range.ms / 1000, minuteEnd];
}

export const usd = (value: number | string) => {
  const amount = Number(value);
  return amount === 0 ? "$0" : amount < 0.01 ? `$${amount.toPrecision(3)}` : `$${amount.toFixed(2)}`;
};

export const count = (value: number | string) => Number(value).toLocaleString("en-US");

export const milliseconds = (value: number | null | undefined) =>
  value === null || value === undefined || Number.isNaN(value)
    ? "–"
    : `${Math.round(value).toLocaleString("en-US")} ms`;

/** A time to the millisecond, in UTC, without the year: what a log's rows show. */
export const shortTime = (ms: number | string) =>
  new Date(Number(ms)).toISOString().slice(5, 23).replace("T", " ");
/** Unix seconds as month, day and time in UTC (as the request log shows times), e.g. `11-28 14:05`. */
export const unixTime = (seconds: number) =>
  new Date(seconds * 1000).toISOString().slice(5, 16).replace("T", " ");
