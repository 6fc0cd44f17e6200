import { ParseError } from "../parse-error.ts";

// An escaped NUL (\u0000) not itself preceded by an escaping backslash.
const ESCAPED_NUL = /(^|[^\\])(\\\\)*\\u0000/;

/** Postgres jsonb cannot hold U+0000, escaped or not. */
export function assertNoJsonNul(text: string, where: string): void {
  if (text.includes("\u0000") || ESCAPED_NUL.test(text)) {
    throw new ParseError(`${where}: contains a NUL character (\\u0000), which cannot be stored.`);
  }
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
