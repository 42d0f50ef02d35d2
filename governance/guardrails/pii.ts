/** The kinds of personal data and secrets a route's guardrails can redact. */
import type { PiiKind } from "../../config/routes-schema.ts";

/**
 * One detector per kind, each a single regular expression without nested quantifiers over
 * overlapping classes, so matching stays linear on hostile input. Cards are confirmed by the Luhn
 * check, so order numbers and other digit runs are left alone.
 */
const detectors: Record<PiiKind, { pattern: RegExp; accept?: (match: string) => boolean }> = {
  email: {
    pattern: /\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b/g,
  },
  // International (+CC …) or grouped national numbers (555-123-4567, (020) 7946 0958): a run of
  // digits with separators. A bare run of digits (a year, a count, an id) is not a phone number.
  phone: {
    pattern: /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{2,4}[ .-]\d{3,4}\b/g,
    accept: (match) => {
      const digits = match.replace(/\D/g, "").length;
      return digits >= 9 && digits <= 15;
    },
  },
  card: { pattern: /\b\d(?:[ -]?\d){12,18}\b/g, accept: (match) => luhn(match.replace(/\D/g, "")) },
  secret: {
    pattern: new RegExp(
      [
        "-----BEGIN [A-Z ]*PRIVATE KEY-----[\\s\\S]{0,8192}?-----END [A-Z ]*PRIVATE KEY-----",
        "\\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}",
        "\\bgwk-[A-Za-z0-9_-]{20,}",
        "\\b(?:AKIA|ASIA)[A-Z0-9]{16}\\b",
        "\\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}",
        "\\bgithub_pat_[A-Za-z0-9_]{40,}",
        "\\bxox[abprs]-[A-Za-z0-9-]{10,}",
        "\\bAIza[A-Za-z0-9_-]{35}",
        "\\beyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}",
        "\\b[Bb]earer [A-Za-z0-9._~+/-]{20,}=*",
      ].join("|"),
      "g",
    ),
  },
};

/** Applied in this order: a key or a card never half-matches as a phone number first. */
const order: PiiKind[] = ["secret", "email", "card", "phone"];

export interface Redacted {
  text: string;
  /** Matches replaced, by kind (never the matched text). */
  counts: Partial<Record<PiiKind, number>>;
}

/** Replaces each match of the given kinds with `[EMAIL]`, `[PHONE]`, `[CARD]` or `[SECRET]`. */
export function redactPii(text: string, kinds: readonly PiiKind[]): Redacted {
  const counts: Partial<Record<PiiKind, number>> = {};
  let result = text;
  for (const kind of order) {
    if (!kinds.includes(kind)) continue;
    const { pattern, accept } = detectors[kind];
    result = result.replace(pattern, (match) => {
      if (accept && !accept(match)) return match;
      counts[kind] = (counts[kind] ?? 0) + 1;
      return `[${kind.toUpperCase()}]`;
    });
  }
  return { text: result, counts };
}

/** The Luhn checksum every payment card number satisfies. */
function luhn(digits: string): boolean {
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = Number(digits[digits.length - 1 - index]);
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}
