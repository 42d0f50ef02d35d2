/**
 * The CLI's command groups, each loaded when it runs, so that a command loads only its own
 * modules (keys does not load Kafka, batch does not load the configuration). Here and not in
 * bin/gateway.ts: tsx 4.23 fails to parse a dynamic import in a file with a hashbang
 * (privatenumber/tsx#842).
 */
export const commandGroups: Record<string, (argv: string[]) => Promise<number>> = {
  config: async (argv) => (await import("./config.ts")).configCommand(argv),
  "reset-key": async (argv) => (await import("./reset-key.ts")).resetKeyCommand(argv),
  batch: async (argv) => (await import("./batch/commands.ts")).batchCommand(argv),
  cluster: async (argv) => (await import("./cluster/commands.ts")).clusterCommand(argv),
  "dead-letters": async (argv) => (await import("./dead-letters/commands.ts")).deadLettersCommand(argv),
  keys: async (argv) => (await import("./keys/commands.ts")).keysCommand(argv),
  teams: async (argv) => (await import("./keys/commands.ts")).teamsCommand(argv),
};
