import type { LoadedConfig } from "../config/load.ts";

/**
 * The configuration as every command loads it, with where each value came from; when it is wrong,
 * undefined after saying why on stderr (the command then exits with 2). The loader is imported
 * when this is called, so that commands without a configuration do not load it.
 */
export async function loadConfigOrSayWhy(): Promise<LoadedConfig | undefined> {
  const { ConfigError, loadConfigWithSources } = await import("../config/load.ts");
  try {
    return loadConfigWithSources();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return undefined;
  }
}
