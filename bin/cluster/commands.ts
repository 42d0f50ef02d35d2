import { runGroup } from "../cli-kit.ts";

export const clusterUsage = `usage: npx ai-gateway cluster up|status|down [options]

The distributed gateway on this machine, without Docker: Kafka (from Maven Central jars, fetched
once), a redis-server and the embedded ClickHouse, each on a free port, and the gateway's roles as
processes of their own. They keep running after the command returns; data stays in --dir.
Needs java 17+, mvn (first start only), redis-server and python3 on the PATH.

  up [--ingress N] [--workers N] [--sinks N] [--port N] [--dir ./data/cluster]
           starts what is not running yet (the services, N of each role, one batch coordinator),
           waits until each answers /readyz and prints the status. Ingress listen on --port
           (default: the configuration's server.port, 8080), --port+1, …; the others on free
           ports (/healthz, /readyz, /metrics). The configuration (GATEWAY_CONFIG,
           GATEWAY_MASTER_KEY, provider keys) comes from the environment as for start.
  status [--json] [--dir ./data/cluster]
           each process: pid, address, ready (/readyz or a ping), the workers' Kafka lag.
           Exit code 0 when everything is ready.
  down [--dir ./data/cluster]
           SIGTERM to the ingress, then workers, sinks and batch (in-flight calls finish within
           server.shutdownGraceMs), then the services; SIGKILL past a bound. The data stays.

Logs: <dir>/logs/<role>-<n>.log, <dir>/logs/{kafka,redis,clickhouse}.log.
`;

/** Each command is loaded when it runs: `up` brings kafkajs and the gateway's services, which the other commands of the CLI need not load. */
export function clusterCommand(argv: string[]): Promise<number> {
  return runGroup(
    "cluster",
    clusterUsage,
    {
      up: async (args) => (await import("./up.ts")).upCommand(args),
      status: async (args) => (await import("./status.ts")).statusCommand(args),
      down: async (args) => (await import("./down.ts")).downCommand(args),
    },
    argv,
  );
}
