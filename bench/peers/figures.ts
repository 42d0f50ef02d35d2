import { quantile } from "../stats.ts";
import type { Phase, TargetRound } from "./measure.ts";

/** The figures of one table column: a target over all its rounds, or over one. */
export interface Figures {
  closedP50: number;
  closedP99: number;
  openP50: number;
  openP99: number;
  cpuOwn: number;
  cpuAll: number;
  mostPerSecond: number;
  streamP50: number;
  streamP99: number;
}

export type FigureName = keyof Figures;

const pooled = (rounds: TargetRound[], phase: "closed" | "open" | "stream") =>
  rounds.flatMap((round) => round[phase].latencies);
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/** A target's own figures, its rounds' samples pooled (CPU and requests/s: their mean). */
export function ownFigures(rounds: TargetRound[]): Figures {
  const closed = pooled(rounds, "closed");
  const open = pooled(rounds, "open");
  const stream = pooled(rounds, "stream");
  return {
    closedP50: quantile(closed, 0.5),
    closedP99: quantile(closed, 0.99),
    openP50: quantile(open, 0.5),
    openP99: quantile(open, 0.99),
    cpuOwn: mean(rounds.map((round) => round.cpuPerRequest.own)),
    cpuAll: mean(rounds.map((round) => round.cpuPerRequest.all)),
    mostPerSecond: mean(rounds.map((round) => round.most.perSecond)),
    streamP50: quantile(stream, 0.5),
    streamP99: quantile(stream, 0.99),
  };
}

const latencyFigures: FigureName[] = [
  "closedP50",
  "closedP99",
  "openP50",
  "openP99",
  "streamP50",
  "streamP99",
];

/** A gateway's figures with the direct baseline's latencies subtracted: what it adds. */
export function addedFigures(own: Figures, direct: Figures): Figures {
  const added = { ...own };
  for (const name of latencyFigures) added[name] = own[name] - direct[name];
  return added;
}

/** Calls that failed in each phase of a target's rounds, with the first failure's words where known. */
export function failures(rounds: TargetRound[]): string[] {
  const phases: Array<[string, (round: TargetRound) => Phase]> = [
    ["closed loop", (round) => round.closed],
    ["open loop", (round) => round.open],
    ["streaming", (round) => round.stream],
  ];
  const notes = phases.flatMap(([name, of]) => {
    const failed = rounds.reduce((sum, round) => sum + of(round).failures, 0);
    if (failed === 0) return [];
    const calls = rounds.reduce((sum, round) => sum + of(round).failures + of(round).latencies.length, 0);
    const first = rounds.map((round) => of(round).firstFailure).find(Boolean);
    return [`${name}: ${failed} of ${calls} calls failed${first ? `, the first with ${first}` : ""}`];
  });
  const mostFailed = rounds.reduce((sum, round) => sum + round.most.failures, 0);
  if (mostFailed > 0) notes.push(`unthrottled run: ${mostFailed} calls failed`);
  return notes;
}
