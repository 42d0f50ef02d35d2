import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** The AWS shared credentials and config files, as the AWS SDKs find them. */
export interface SharedFiles {
  credentialsFile: string;
  configFile: string;
  /** A profile's settings from both files (the credentials file's win); undefined when neither has it. */
  profile(name: string): Record<string, string> | undefined;
}

/**
 * Reads both files once. The credentials file names a profile `[name]`; the config file
 * `[profile name]`, except `[default]` (its other sections, such as `[sso-session …]`, are no
 * profiles). A file that cannot be read holds no profiles.
 */
export function readSharedFiles(env: NodeJS.ProcessEnv): SharedFiles {
  const credentialsFile = env.AWS_SHARED_CREDENTIALS_FILE ?? join(homedir(), ".aws", "credentials");
  const configFile = env.AWS_CONFIG_FILE ?? join(homedir(), ".aws", "config");
  const credentials = readIni(credentialsFile);
  const config = new Map<string, Record<string, string>>();
  for (const [section, settings] of readIni(configFile)) {
    const name = section === "default" ? section : /^profile\s+(.+)$/.exec(section)?.[1];
    if (name) config.set(name, { ...config.get(name), ...settings });
  }
  return {
    credentialsFile,
    configFile,
    profile(name) {
      const fromConfig = config.get(name);
      const fromCredentials = credentials.get(name);
      return fromConfig || fromCredentials ? { ...fromConfig, ...fromCredentials } : undefined;
    },
  };
}

/** The `[section]`s of an INI file and their `key = value` lines (keys in lower case). */
function readIni(file: string): Map<string, Record<string, string>> {
  const sections = new Map<string, Record<string, string>>();
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return sections;
  }
  let current: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s*[#;].*$/, "").trim();
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      current = {};
      sections.set(header[1] as string, current);
    } else if (current && line.includes("=")) {
      const at = line.indexOf("=");
      current[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
    }
  }
  return sections;
}
