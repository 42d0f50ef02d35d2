import { parseArgs } from "node:util";
import { environmentVariables } from "../config/environment.ts";
import { cli } from "./cli-kit.ts";
import { loadConfigOrSayWhy } from "./configuration.ts";

const usage = `usage: ${cli} config [--json]

Prints the configuration in effect, secrets hidden, with where each value came from: its built-in
default, the file (GATEWAY_CONFIG, default ./gateway.yaml), or one of these environment variables,
which wins for the options it sets when it is set and not empty:
${Object.entries(environmentVariables)
  .map(([variable, options]) => `  ${variable.padEnd(36)}${Object.keys(options).join(", ")}`)
  .join("\n")}

options:
  --json   one JSON object for scripts: { "file", "config", "sources": { "<option>": { "from", ... } } }
`;

/**
 * `ai-gateway config`: the configuration as `start` would load it. It imports the configuration
 * modules only (not Kafka, ClickHouse or fastify), and only when it runs, so that other commands
 * do not load them. (Here and not in bin/gateway.ts: see bin/start.ts on tsx and hashbangs.)
 */
export async function configCommand(argv: string[]): Promise<number> {
  let json: boolean | undefined;
  try {
    const options = { json: { type: "boolean" }, help: { type: "boolean" } } as const;
    const { values } = parseArgs({ args: argv, options });
    if (values.help) {
      process.stdout.write(usage);
      return 0;
    }
    json = values.json;
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\nsee: ${cli} config --help\n`);
    return 2;
  }
  const [loaded, { maskSecrets }, { annotatedYaml }] = await Promise.all([
    loadConfigOrSayWhy(),
    import("../config/secrets.ts"),
    import("./config-yaml.ts"),
  ]);
  if (!loaded) return 2;
  const { file, sources } = loaded;
  const config = maskSecrets(loaded.config);
  process.stdout.write(
    json ? `${JSON.stringify({ file, config, sources }, null, 2)}\n` : annotatedYaml(config, sources, file),
  );
  return 0;
}
