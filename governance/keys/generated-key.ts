import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { hashKey } from "./keyring.ts";

export interface GeneratedKey {
  /** Hashes of generated keys that the gateway accepts. */
  hashes: string[];
  /** A key made on this start: to show once, then forget; its hash is not kept yet (keepGeneratedKey). */
  created?: string;
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

/** The one time the key is shown: on stderr, outside the structured logs, with a request to paste. */
export function announceGeneratedKey(key: string, file: string, url: string): string {
  return [
    "",
    "No gateway key was configured, so one was created. It is shown only now; the gateway keeps just",
    `its hash (${file}). Set GATEWAY_KEYS to choose your own keys instead; lost, it is replaced by`,
    "`npx ai-gateway reset-key`.",
    "",
    `  ${key}`,
    "",
    "Try it:",
    `  curl ${url}/v1/chat/completions \\`,
    `    -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\`,
    `    -d '{"model": "mock", "messages": [{"role": "user", "content": "Hello, gateway!"}]}'`,
    "",
    `The dashboard: ${url}/ui (sign in with this key).`,
    "",
  ].join("\n");
}
