/** A target of the comparison, started: where to send calls and which processes' CPU is its cost. */
export interface RunningTarget {
  origin: string;
  /** The headers of every call: its key, and for Portkey where the upstream is. */
  headers: Record<string, string>;
  /** Its processes; CPU is summed over them and all they started. */
  pids: number[];
  stop(): Promise<void>;
}
