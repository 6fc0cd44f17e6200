import { describeCount, PARSE_LIMITS } from "../limits.ts";
import { ParseError } from "../parse-error.ts";

// An escaped NUL (\u0000) not itself preceded by an escaping backslash.
const ESCAPED_NUL = /(^|[^\\])(\\\\)*\\u0000/;

/** Postgres jsonb cannot hold U+0000, escaped or not. */
export function assertNoJsonNul(text: string, where: string): void {
  if (text.includes("\u0000") || ESCAPED_NUL.test(text)) {
    throw new ParseError(`${where}: contains a NUL character (\\u0000), which cannot be stored.`);
  }
}

export function tooDeep(where: string): string {
  return `${where}: nested deeper than ${describeCount(PARSE_LIMITS.jsonDepth)} levels; the limit is ${describeCount(PARSE_LIMITS.jsonDepth)} levels of nesting.`;
}

/**
 * Fails a record nested deeper than PARSE_LIMITS.jsonDepth before JSON.parse builds it:
 * such a value parses, but serialising it for its INSERT overflows the stack (a
 * RangeError that would be retried as if it were an outage). One pass, strings skipped.
 */
function assertJsonDepth(text: string, where: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c) i += 1;
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x7b || char === 0x5b) {
      if (++depth > PARSE_LIMITS.jsonDepth) throw new ParseError(tooDeep(where));
    } else if (char === 0x7d || char === 0x5d) depth -= 1;
  }
}

/** JSON.parse behind the depth limit (the JSON array reader counts depth as it cuts elements out, so it uses parseJsonText). */
export function parseJsonRecord(text: string, where: string): unknown {
  assertJsonDepth(text, where);
  return parseJsonText(text, where);
}

export function parseJsonText(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ParseError(`${where}: not valid JSON (${(error as Error).message}).`);
  }
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
