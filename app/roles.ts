/**
 * `all` runs every part in one process (the embedded default); the others split them across
 * processes: `ingress` (HTTP/WebSocket edge), `worker` (provider calls), `sink` (events → ClickHouse),
 * `batch` (the coordinator of batch jobs: feeds their lines to the workers, stores their results).
 */
export const roles = ["all", "ingress", "worker", "sink", "batch"] as const;
export type Role = (typeof roles)[number];

/** The parts a role runs. */
export function partsOf(role: Role) {
  const all = role === "all";
  return {
    sink: all || role === "sink",
    worker: all || role === "worker",
    batch: all || role === "batch",
    ingress: all || role === "ingress",
  };
}
