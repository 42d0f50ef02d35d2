import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { GatewayConfig } from "../../config/schema.ts";
import type { Banner } from "../../runtime/banner.ts";
import { hashKey } from "./keyring.ts";

export interface GeneratedKey {
  /** Hashes of generated keys that the gateway accepts. */
  hashes: string[];
  /** A key made on this start: to show once, then forget; its hash is not kept yet (keepGeneratedKey). */
  created?: string;
}

/**
 * Whether the gateway runs on a key of its own making: only when no key is configured, neither a
 * caller's (auth.keys) nor the master key (with which the operator makes keys). The ingress, the
 * cluster that starts it and reset-key must agree, or a key is shown that nothing accepts.
 */
export function makesItsOwnKey(auth: GatewayConfig["auth"]): boolean {
  return auth.keys.length === 0 && !auth.masterKey;
}

/**
 * With no key configured the gateway is not left open: it accepts the keys whose SHA-256 is kept
 * in `file`, and with none kept yet it makes a random key, which the caller keeps with
 * keepGeneratedKey once it is sure to show it.
 */
export function readOrMakeGatewayKey(file: string): GeneratedKey {
  if (existsSync(file)) {
    const hashes = readFileSync(file, "utf8")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => /^[0-9a-f]{64}$/.test(line));
    if (hashes.length > 0) return { hashes };
  }
  const key = newGatewayKey();
  return { hashes: [hashKey(key)], created: key };
}

export function newGatewayKey(): string {
  return `gw-${randomBytes(24).toString("base64url")}`;
}

/** Keeps the key's hash in `file`, in place of any kept before (the key itself is never written). */
export function keepGeneratedKey(file: string, key: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${hashKey(key)}\n`, { mode: 0o600 });
}

/**
 * The one time the key is shown: outside the log lines (on stderr), with where to start. Its hash
 * alone is kept; lost, the key is replaced by `ai-gateway reset-key`.
 */
export function announceGeneratedKey(key: string, file: string, url: string): Banner {
  const call = [
    `curl ${url}/v1/chat/completions \\`,
    `  -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\`,
    `  -d '{"model": "mock", "messages": [{"role": "user", "content": "Hello, gateway!"}]}'`,
  ];
  const settings = "npx ai-gateway config";
  return {
    title: `The gateway is ready at ${url}`,
    fields: { url, key, keyFile: file, dashboard: `${url}/ui`, next: [call.join("\n"), settings] },
    lines: [
      "No gateway key was configured, so this one was made. It is shown only now: the gateway",
      `keeps just its hash (${file}). Lost, it is replaced by \`npx ai-gateway reset-key\`;`,
      "set GATEWAY_KEYS to choose your own keys instead.",
      "",
      `  ${key}`,
      "",
      `Dashboard: ${url}/ui (sign in with this key)`,
      "",
      "Next: try a call, then see what the gateway runs with and where each value came from:",
      ...call.map((line) => `  ${line}`),
      `  ${settings}`,
      "",
    ],
  };
}
