import type { ClientName } from "./client.ts";

/** What the ingress and worker processes of one trial are told at start. */
export interface TrialSetup {
  client: ClientName;
  brokers: string[];
  /** The three priority topics (interactive, default, batch), as in the gateway. */
  requestTopics: string[];
  replyTopic: string;
  /** The workers' consumer group; the ingress reads replies in a group of its own. */
  workerGroup: string;
  ingressGroup: string;
}

/** One stretch of load the ingress drives: open loop at a fixed rate, or as fast as replies come back. */
export type Phase =
  | { name: string; kind: "rate"; rate: number; durationMs: number }
  | { name: string; kind: "most"; inFlight: number; durationMs: number };

export interface PhaseOutcome {
  /** Round trips (ms) from each request's due time to its reply consumed by the ingress. */
  latencies: number[];
  errors: number;
  firstError?: string;
}

export const requestBytes = 1024;
export const replyBytes = 300;
