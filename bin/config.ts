import { parseArgs } from "node:util";
import type { Document } from "yaml";
import { environmentVariables } from "../config/environment.ts";
import { loadConfigOrSayWhy } from "./configuration.ts";

const usage = `usage: ai-gateway config [--json]

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
    process.stderr.write(`error: ${(error as Error).message}\nsee: ai-gateway config --help\n`);
    return 2;
  }
  const [loaded, { maskSecrets }, yaml] = await Promise.all([
    loadConfigOrSayWhy(),
    import("../config/secrets.ts"),
    import("yaml"),
  ]);
  if (!loaded) return 2;
  const { file, sources } = loaded;
  const config = maskSecrets(loaded.config);
  if (json) {
    process.stdout.write(`${JSON.stringify({ file, config, sources }, null, 2)}\n`);
    return 0;
  }
  const document = new yaml.Document(config);
  document.commentBefore = [
    " The configuration in effect, secrets hidden. Beside each option, where its value came from:",
    ` its built-in default, the file ${file}, or the environment variable that set it.`,
  ].join("\n");
  for (const [option, source] of Object.entries(sources))
    annotate(
      yaml,
      document,
      option.split("."),
      ` ${source.from === "environment" ? `$${source.variable}` : source.from}`,
    );
  process.stdout.write(document.toString());
  return 0;
}

/** Writes a comment beside an option's value, or beside its name when the value is a block below it. */
function annotate(yaml: typeof import("yaml"), document: Document, path: string[], comment: string): void {
  const node = document.getIn(path, true);
  if (yaml.isCollection(node) && node.items.length > 0) {
    const section = path.length > 1 ? document.getIn(path.slice(0, -1), true) : document.contents;
    const pair = yaml.isMap(section)
      ? section.items.find((item) => yaml.isScalar(item.key) && item.key.value === path.at(-1))
      : undefined;
    if (yaml.isScalar(pair?.key)) pair.key.comment = comment;
  } else if (yaml.isScalar(node)) {
    node.comment = comment;
  } else if (yaml.isCollection(node)) {
    node.flow = true; // empty: `[]` or `{}` on the name's line, with its comment
    node.comment = comment;
  }
}
