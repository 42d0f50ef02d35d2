/**
 * The sliding minute of the request and token quotas, approximated from two fixed minutes: the
 * count of the last minute weighs as much of it as still falls within the last 60 seconds.
 */
export function minuteWindow(nowMs: number): {
  minute: number;
  previousWeight: number;
  msToNextMinute: number;
} {
  const minute = Math.floor(nowMs / 60_000);
  const intoMinute = nowMs - minute * 60_000;
  return { minute, previousWeight: 1 - intoMinute / 60_000, msToNextMinute: 60_000 - intoMinute };
}
