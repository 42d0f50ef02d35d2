import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Value, type ValueError, ValueErrorType } from "@sinclair/typebox/value";
import { parseDocument } from "yaml";
import { providerTypes } from "../workers/providers/registry.ts";
import { type EnvironmentVariable, settingsFrom } from "./environment.ts";
import { isRecord, optionsOf, setAt, valueAt } from "./options.ts";
import { createRouteTable } from "./routes.ts";
import { ConfigSchema, type GatewayConfig } from "./schema.ts";

/** The file that writes out every option with its default, read when `GATEWAY_CONFIG` names no other. */
export const defaultConfigPath = fileURLToPath(new URL("../gateway.yaml", import.meta.url));

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration in ${file}:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

/** Where an option's value came from. */
export type Source =
  | { from: "default" }
  | { from: "file" }
  | { from: "environment"; variable: EnvironmentVariable };

export interface LoadedConfig {
  readonly config: GatewayConfig;
  /** The configuration file read. */
  readonly file: string;
  /** The source of every option, by its dotted path (`server.port`). */
  readonly sources: Record<string, Source>;
}

/** Reads, interpolates, layers and validates the configuration; throws a ConfigError naming every bad key. */
export function loadConfig(env: Env = process.env): GatewayConfig {
  return loadConfigWithSources(env).config;
}

/** The configuration as loadConfig makes it, with where each value came from. */
export function loadConfigWithSources(env: Env = process.env): LoadedConfig {
  const file = env.GATEWAY_CONFIG || defaultConfigPath;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(file, [`cannot read the file: ${(error as Error).message}`]);
  }
  return layer(text, file, env);
}

export function parseConfig(text: string, file: string, env: Env): GatewayConfig {
  return layer(text, file, env).config;
}

/**
 * One rule, whatever the file: the schema's defaults, under the file's values, under the documented
 * environment variables that are set (config/environment.ts). The defaults live in the schema
 * alone, beside each option's type and description; gateway.yaml writes every one of them out (a
 * test holds it equal), so it is a file like any other and not a base layer that a file of one's
 * own would have to merge with.
 */
function layer(text: string, file: string, env: Env): LoadedConfig {
  // YAML 1.2 is a superset of JSON, so one parser serves both formats.
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      file,
      document.errors.map((error) => error.message.split("\n")[0] ?? error.message),
    );
  }
  const problems: string[] = [];
  const fromFile = interpolate(document.toJS() ?? {}, "", env, problems);
  if (problems.length > 0) throw new ConfigError(file, problems);

  const settings = settingsFrom(env);
  const layered = structuredClone(fromFile);
  if (isRecord(layered)) for (const { option, value } of settings) setAt(layered, option, value);
  const variableOf = (key: string) =>
    settings.find(({ option }) => key === option || key.startsWith(`${option}.`))?.variable;

  const withDefaults = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, layered));
  const errors = problemsOf([...Value.Errors(ConfigSchema, withDefaults)]);
  if (errors.length > 0) {
    throw new ConfigError(
      file,
      errors.map((error) => {
        const key = keyOf(error.path);
        const variable = variableOf(key);
        return `${key || "(root)"}: ${describe(error)}${variable ? ` (from ${variable})` : ""}`;
      }),
    );
  }
  const config = Value.Decode(ConfigSchema, withDefaults);
  const crossProblems = checkAcrossSections(config);
  if (crossProblems.length > 0) throw new ConfigError(file, crossProblems);

  const sources = Object.fromEntries(
    optionsOf(ConfigSchema).map((option): [string, Source] => {
      const variable = variableOf(option);
      if (variable) return [option, { from: "environment", variable }];
      if (valueAt(fromFile, option) !== undefined) return [option, { from: "file" }];
      return [option, { from: "default" }];
    }),
  );
  return { config, file, sources };
}

/** What one section's schema cannot see: references between sections and each provider's own options. */
function checkAcrossSections(config: GatewayConfig): string[] {
  const problems: string[] = [];
  const providerNames = new Set<string>();
  config.providers.forEach((provider, index) => {
    if (providerNames.has(provider.name))
      problems.push(`providers.${index}.name: "${provider.name}" is defined twice`);
    providerNames.add(provider.name);
    const schema = providerTypes[provider.type].optionsSchema;
    const options = Value.Convert(schema, Value.Default(schema, provider.options));
    for (const error of problemsOf([...Value.Errors(schema, options)])) {
      problems.push(
        `providers.${index}.options${keyOf(error.path) ? `.${keyOf(error.path)}` : ""}: ${describe(error)}`,
      );
    }
    provider.options = options as Record<string, unknown>;
  });
  const regexes = [
    ...config.analytics.content.redact.map((pattern, index) => ({
      pattern,
      at: `analytics.content.redact.${index}`,
    })),
    ...config.models.flatMap((model, route) =>
      (model.guardrails?.deny ?? []).map((pattern, index) => ({
        pattern,
        at: `models.${route}.guardrails.deny.${index}`,
      })),
    ),
  ];
  const badRegexes = regexes.flatMap(({ pattern, at }) => {
    try {
      new RegExp(pattern, "g");
      return [];
    } catch (error) {
      return [`${at}: not a regular expression: ${(error as Error).message}`];
    }
  });
  problems.push(...badRegexes);
  // Routes compile their deny lists: checked only once those are known to be regular expressions.
  if (badRegexes.length === 0) problems.push(...checkRoutes(config.models, providerNames));
  if (config.kafka.brokers.length > 0 && !config.redis.url) {
    problems.push(
      "redis.url: the Kafka bus (kafka.brokers, $KAFKA_BROKERS) needs Redis for replies, cancels and claims: set REDIS_URL (or redis.url)",
    );
  }
  return problems;
}

/** Each route names one deployment or a list of them, existing providers, and fallbacks that are other routes. */
function checkRoutes(models: GatewayConfig["models"], providerNames: Set<string>): string[] {
  const problems: string[] = [];
  const routes = createRouteTable(models);
  models.forEach((model, index) => {
    const at = `models.${index}`;
    if ((model.provider === undefined) === (model.deployments === undefined))
      problems.push(`${at}: give either provider (one deployment) or deployments, not both or neither`);
    if (model.deployments && model.model !== undefined)
      problems.push(`${at}.model: with deployments, each deployment names its model`);
    const deployments = model.deployments ?? (model.provider ? [{ provider: model.provider }] : []);
    deployments.forEach((deployment, position) => {
      if (!providerNames.has(deployment.provider)) {
        const where = model.deployments ? `${at}.deployments.${position}.provider` : `${at}.provider`;
        problems.push(`${where}: no provider is named "${deployment.provider}"`);
      }
    });
    const later = models.findIndex((other, position) => position > index && other.name === model.name);
    if (later >= 0 && !model.when)
      problems.push(
        `models.${later}: never used: models.${index}, of the same name, has no \`when\` and serves every request`,
      );
    const semantic = model.cache.semantic;
    if (semantic && !routes.resolve(semantic.embeddingModel))
      problems.push(
        `${at}.cache.semantic.embeddingModel: "${semantic.embeddingModel}" is not a model of this gateway`,
      );
    if (semantic && model.cache.ttlSeconds === 0)
      problems.push(
        `${at}.cache.semantic: needs cache.ttlSeconds above 0 (the answers it finds are kept that long)`,
      );
    model.fallbacks.forEach((fallback, position) => {
      if (fallback === model.name || !routes.resolve(fallback))
        problems.push(`${at}.fallbacks.${position}: "${fallback}" is not another model of this gateway`);
    });
  });
  return problems;
}

/**
 * The errors worth reporting: an intersection's own "Expected all values to match" says nothing
 * that the errors of its parts, under the same key, do not say better.
 */
function problemsOf(errors: ValueError[]): ValueError[] {
  return errors.filter(
    (error) =>
      error.type !== ValueErrorType.Intersect ||
      !errors.some((other) => other !== error && other.path.startsWith(`${error.path}/`)),
  );
}

/**
 * A schema's `patternMessage` says what its pattern means, for a string or a record's keys (a key
 * outside the pattern is an additional property): "not an HTTP header name" rather than the
 * regular expression. Unions of literals read better as the list of allowed values.
 */
function describe(error: ValueError): string {
  const patternFailed =
    error.type === ValueErrorType.StringPattern || error.type === ValueErrorType.ObjectAdditionalProperties;
  if (patternFailed && typeof error.schema.patternMessage === "string") return error.schema.patternMessage;
  if (error.type === ValueErrorType.ObjectAdditionalProperties) return unknownKey(error);
  const choices = (error.schema.anyOf as Array<{ const?: unknown }> | undefined)?.map(
    (option) => option.const,
  );
  if (choices?.every((choice) => typeof choice === "string")) return `must be one of ${choices.join(", ")}`;
  return error.message;
}

/** A key the section does not take: the one meant, when one is close (a typo), else those it takes. */
function unknownKey(error: ValueError): string {
  const known = Object.keys((error.schema.properties as object | undefined) ?? {});
  if (known.length === 0) return error.message;
  const key = error.path.split("/").at(-1) ?? "";
  const [nearest] = known
    .map((name) => ({ name, distance: editDistance(key.toLowerCase(), name.toLowerCase()) }))
    .sort((a, b) => a.distance - b.distance);
  if (nearest && nearest.distance <= Math.max(2, Math.floor(key.length / 4)))
    return `${error.message}: did you mean ${nearest.name}?`;
  return `${error.message} (this section takes ${known.join(", ")})`;
}

/** Levenshtein distance: the single-character edits that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] as number;
}

const reference = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${NAME}` and `${NAME:-fallback}` in every string value (after parsing, so a secret
 * containing YAML syntax cannot change the document's shape). `$${` writes a literal `${`.
 */
function interpolate(value: unknown, path: string, env: Env, problems: string[]): unknown {
  if (typeof value === "string") {
    return value.replace(reference, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === "$${") return "${";
      const found = env[name as string];
      if (found !== undefined && found !== "") return found;
      if (fallback !== undefined) return fallback;
      problems.push(`${keyOf(path)}: environment variable ${name} is not set`);
      return "";
    });
  }
  if (Array.isArray(value))
    return value.map((item, index) => interpolate(item, `${path}/${index}`, env, problems));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolate(item, `${path}/${key}`, env, problems)]),
    );
  }
  return value;
}

/** `/server/port` → `server.port`, the way the key is written in the file. */
function keyOf(jsonPointer: string): string {
  return jsonPointer.split("/").filter(Boolean).join(".");
}
