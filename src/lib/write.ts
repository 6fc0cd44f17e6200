import type { SQL } from "drizzle-orm";
import { idempotencyReservation, IdempotencyKeyInUse } from "./idempotency.ts";
import { postgresErrorOf, UNIQUE_VIOLATION } from "./postgres-errors.ts";
import type { ServiceContext } from "./service-context.ts";

export type Row = Record<string, unknown>;

// drizzle-kit's name for idempotency_key's composite primary key (see drizzle/0000_initial_schema.sql).
const IDEMPOTENCY_KEY_CONSTRAINT = "idempotency_key_caller_key_pk";

/**
 * Runs a mutation's statements as one batch: one transaction, one round trip. When the
 * request carries an Idempotency-Key, its reservation rides in the same batch, so the
 * key is taken if and only if the change commits.
 */
export async function runWrite(ctx: ServiceContext, statements: SQL[]): Promise<Row[][]> {
  const prelude = ctx.idempotency ? idempotencyReservation(ctx.idempotency) : [];
  const all = [...prelude, ...statements];
  const [first, ...rest] = all.map((statement) => ctx.db.execute(statement));
  if (!first) return [];
  try {
    const results = await ctx.db.batch([first, ...rest]);
    if (ctx.idempotency) ctx.idempotency.reserved = true;
    return results.slice(prelude.length).map((result) => result.rows as Row[]);
  } catch (error) {
    const pgError = postgresErrorOf(error);
    if (ctx.idempotency && pgError?.code === UNIQUE_VIOLATION && pgError.constraint === IDEMPOTENCY_KEY_CONSTRAINT) {
      throw new IdempotencyKeyInUse();
    }
    throw error;
  }
}
