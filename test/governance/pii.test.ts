import { describe, expect, it } from "vitest";
import { redactPii } from "../../governance/guardrails/pii.ts";

const all = ["email", "phone", "card", "secret"] as const;

describe("PII and secret redaction", () => {
  it.each([
    ["mail ana.lopez+ai@example.co.uk today", "mail [EMAIL] today", "email"],
    ["call +44 20 7946 0958 or (555) 123-4567", "call [PHONE] or [PHONE]", "phone"],
    ["call 555-123-4567 now", "call [PHONE] now", "phone"],
    ["card 4111 1111 1111 1111 exp 12/29", "card [CARD] exp 12/29", "card"],
    ["card 5500-0000-0000-0004", "card [CARD]", "card"],
    ["key sk-proj-abcdefghijklmnopqrstuvwx123", "key [SECRET]", "secret"],
    ["key sk-ant-api03-abcdefghijklmnopqrstuv", "key [SECRET]", "secret"],
    ["aws AKIAIOSFODNN7EXAMPLE here", "aws [SECRET] here", "secret"],
    ["gh ghp_abcdefghijklmnopqrstuvwxyz0123456789", "gh [SECRET]", "secret"],
    ["Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345", "Authorization: [SECRET]", "secret"],
    [
      "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
      "jwt [SECRET]",
      "secret",
    ],
    ["-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----", "[SECRET]", "secret"],
  ])("redacts %j", (text, expected, kind) => {
    const redacted = redactPii(text, all);
    expect(redacted.text).toBe(expected);
    expect(redacted.counts[kind as (typeof all)[number]]).toBeGreaterThan(0);
    expect(JSON.stringify(redacted.counts)).not.toMatch(/[0-9]{5}|@|sk-/);
  });

  it.each([
    "in 2024 we sold 1234567 units",
    "order 4111111111111112 shipped", // 16 digits, fails the Luhn check
    "version 1.2.3 of uuid 123e4567-e89b-12d3-a456-426614174000",
    "it used 128000 tokens over 3600 seconds",
    "meet on 2026-11-28 at 10:30",
    "the sku-12345 and sk-short",
  ])("leaves %j alone", (text) => {
    expect(redactPii(text, all)).toEqual({ text, counts: {} });
  });

  it("redacts only the kinds asked for", () => {
    const text = "ana@example.com 4111 1111 1111 1111";
    expect(redactPii(text, ["card"]).text).toBe("ana@example.com [CARD]");
  });

  // A backtracking pattern would not finish on this within the test's timeout.
  it("gets through input built to make regular expressions backtrack", () => {
    const hostile = `${"a".repeat(50_000)}@${"b-".repeat(50_000)}${"1 ".repeat(50_000)}`;
    expect(redactPii(hostile, all).text.length).toBeGreaterThan(100_000);
  });
});
