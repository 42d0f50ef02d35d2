import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { Counter, Gauge, type Registry } from "prom-client";
import { changedOptions, isReloadable, reloadableSections, withReloadable } from "../config/changes.ts";
import { ConfigError, parseConfig } from "../config/load.ts";
import { loadPrices } from "../config/pricing/price-table.ts";
import { createRouteTable, followRoutes, type RouteTable } from "../config/routes.ts";
import type { GatewayConfig } from "../config/schema.ts";
import type { Logger } from "../runtime/logger.ts";
import { createProviders, deploymentTokenizers } from "../workers/providers/instances.ts";
import type { Provider } from "../workers/providers/provider.ts";

/** What a process serves with, from one version of its configuration. */
export interface Serving {
  readonly config: GatewayConfig;
  readonly routes: RouteTable;
  /** The provider instances, in a process that runs a worker (else none: nothing calls them). */
  readonly providers: Map<string, Provider>;
}

/** Where the configuration was read from: a reload reads the same file with the same environment. */
export interface ConfigSource {
  file: string;
  env: Record<string, string | undefined>;
}

/** What a reload is asked by: a signal reloads whatever the file says, a file event only when its text changed. */
export type ReloadTrigger = "SIGHUP" | "file change";

/**
 * The configuration a process serves with, replaced whole by a reload (models, their guardrails
 * and deployments, prices, provider accounts — config/changes.ts). Parts read it per request:
 * `routes` follows the current version, and a worker takes `serving` at each request's start, so
 * a request in flight ends with the version it started with while new ones get the new one.
 */
export class LiveConfig {
  private current: Serving;
  private lastText: string | undefined;
  /** Follows the current version (config/routes.ts followRoutes). */
  readonly routes: RouteTable = followRoutes(() => this.current.routes);
  private readonly reloads: Counter<"outcome">;
  private readonly loaded: Gauge<"hash">;

  constructor(
    config: GatewayConfig,
    private readonly options: {
      /** Where the configuration was read; without it (an embedded gateway), nothing reloads. */
      source: ConfigSource | undefined;
      /** Whether this process calls providers (runs a worker), so needs their instances. */
      withProviders: boolean;
      log: Logger;
      metrics: Registry;
    },
  ) {
    this.current = this.serve(config);
    const metrics = options.metrics;
    this.reloads = new Counter({
      name: "gateway_config_reloads_total",
      help: "Reloads of the configuration file (SIGHUP or a change to the file), applied or refused.",
      labelNames: ["outcome"],
      registers: [metrics],
    });
    // Both outcomes exist from the start, so that an alert on refusals sees them from zero.
    for (const outcome of ["applied", "refused"]) this.reloads.inc({ outcome }, 0);
    this.loaded = new Gauge({
      name: "gateway_config_loaded_timestamp_seconds",
      help: "When the configuration in use was loaded; `hash` tells its versions apart (of the models, providers and pricing sections: the same on every process that read the same file).",
      labelNames: ["hash"],
      registers: [metrics],
    });
    this.markLoaded(config);
    this.lastText = options.source && readText(options.source.file);
  }

  get serving(): Serving {
    return this.current;
  }

  /**
   * Reads the file again and applies its reloadable sections, or keeps the version in use when it
   * is not valid; one log line says which. Never throws, whatever the file holds.
   */
  reload(trigger: ReloadTrigger): void {
    if (!this.options.source) return;
    const { file, env } = this.options.source;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      this.refuse(`cannot read ${file}: ${(error as Error).message}`, trigger);
      return;
    }
    // Editors and ConfigMap updates raise several events per save; only a new text is a reload.
    if (trigger === "file change" && text === this.lastText) return;
    this.lastText = text;
    // At start an empty file means every default; mid-run it is far likelier a save in progress.
    if (text.trim() === "") {
      this.refuse(`${file} is empty`, trigger);
      return;
    }
    try {
      const next = parseConfig(text, file, env);
      const changed = changedOptions(this.current.config, next);
      const needRestart = changed.filter((option) => !isReloadable(option));
      const applied = withReloadable(this.current.config, next);
      this.current = this.serve(applied, this.current);
      this.reloads.inc({ outcome: "applied" });
      this.markLoaded(applied);
      if (needRestart.length > 0)
        this.options.log.warn(
          { options: needRestart },
          `configuration options that need a restart changed and are not applied: ${needRestart.join(", ")}`,
        );
      const reloaded = changed.filter(isReloadable);
      this.options.log.info(
        { trigger, changed: reloaded, hash: hashOf(applied) },
        `configuration reloaded: ${summary(applied)} (changed: ${reloaded.join(", ") || "nothing"})`,
      );
    } catch (error) {
      this.refuse(oneLine(error), trigger);
    }
  }

  private serve(config: GatewayConfig, previous?: Serving): Serving {
    const routes = createRouteTable(
      config.models,
      loadPrices(config),
      config.routing,
      deploymentTokenizers(config.providers),
    );
    const providers = this.options.withProviders
      ? createProviders(
          config.providers,
          previous && { config: previous.config.providers, providers: previous.providers },
        )
      : new Map<string, Provider>();
    return { config, routes, providers };
  }

  private refuse(problem: string, trigger: ReloadTrigger): void {
    this.reloads.inc({ outcome: "refused" });
    this.options.log.error({ trigger }, `configuration refused, keeping the previous one: ${problem}`);
  }

  private markLoaded(config: GatewayConfig): void {
    this.loaded.reset();
    this.loaded.set({ hash: hashOf(config) }, Date.now() / 1000);
  }
}

function summary(config: GatewayConfig): string {
  const guarded = config.models.filter((model) => model.guardrails).length;
  return `${config.models.length} routes, ${guarded} with guardrails, ${config.providers.length} providers, prices`;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * A short fingerprint of what a reload governs (the reloadable sections; secrets go into it hashed,
 * never shown): the same on every process of any role that read the same file, whatever options
 * of their own the environment gives them.
 */
function hashOf(config: GatewayConfig): string {
  const reloadable = reloadableSections.map((section) => config[section]);
  return createHash("sha256").update(JSON.stringify(reloadable)).digest("hex").slice(0, 12);
}

/** A ConfigError's problems on one line (a log line each reload). */
function oneLine(error: unknown): string {
  if (error instanceof ConfigError) return `${error.file}: ${error.problems.join("; ")}`;
  return (error as Error).message.replace(/\s*\n\s*/g, "; ");
}
