/** Where interactive and batch attempts spent their time in a phase, from the gateway's attempt events. */
export interface Stage {
  priority: string;
  attempts: number;
  queue_p50: number;
  queue_p99: number;
  worker_p50: number;
  worker_p99: number;
}

export interface BatchView {
  id: string;
  status: string;
  request_counts: { total: number; completed: number; failed: number };
  progress?: { done: number; lines_per_second?: number; eta_seconds?: number };
}

export interface PhaseResult {
  name: string;
  kinds: Record<"whole" | "streamed", { client: number[]; added: number[]; serverAdded: number[] }>;
  errors: number;
  cpuCores: Record<string, number>;
  /** Wall-clock bounds, for the gateway's own attempt events. */
  from: number;
  to: number;
  stages?: Stage[];
  batch?: { doneBefore: number; doneAfter: number; finishedWithin: boolean; seconds: number };
}
