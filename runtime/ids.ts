import { randomBytes } from "node:crypto";

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids sort by creation time,
 * which keeps ClickHouse sort keys and Kafka logs in arrival order. Given `seed` (16 bytes, e.g. a
 * hash) instead of random bits, the same arguments give the same id.
 */
export function uuidv7(now = Date.now(), seed?: Buffer): string {
  const bytes = Buffer.from(seed ?? randomBytes(16)).subarray(0, 16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | ((bytes[6] as number) & 0x0f);
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f);
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** An id of `prefix` and 24 random letters and digits, the form of OpenAI's file and batch ids. */
export function prefixedId(prefix: string): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  return prefix + Array.from(randomBytes(24), (byte) => alphabet[byte % alphabet.length]).join("");
}
