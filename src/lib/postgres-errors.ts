/** The Postgres error behind a driver or drizzle error, if there is one. */
export type PostgresError = { code: string; constraint?: string; detail?: string; column?: string; table?: string };

export function postgresErrorOf(error: unknown): PostgresError | null {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    if (typeof current === "object" && current !== null && typeof (current as { code?: unknown }).code === "string") {
      const code = (current as { code: string }).code;
      if (/^[0-9A-Z]{5}$/.test(code)) return current as PostgresError;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

export const UNIQUE_VIOLATION = "23505";
export const FOREIGN_KEY_VIOLATION = "23503";
export const CHECK_VIOLATION = "23514";
