/** A target of the comparison, started: where to send calls and which processes' CPU is its cost. */
export interface RunningTarget {
  origin: string;
  /** The headers of every call: its key, and for Portkey where the upstream is. */
  headers: Record<string, string>;
  /** Its own processes. */
  pids: number[];
  /** The services it needs besides (the Kafka path's Kafka, Redis and ClickHouse); their CPU is its cost too. */
  servicePids: number[];
  stop(): Promise<void>;
}
