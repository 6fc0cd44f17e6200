/**
 * Immediate revocation at no extra round trip. An access token is verified without the
 * database, so by itself it would outlive a deletion, a deactivation or a role or
 * password change until it expires. Instead, every database call an authenticated request
 * makes is sent as one transaction whose first statement is `credential_guard(…)`
 * (drizzle/0004_credential_guard.sql): it raises SQLSTATE GS401 when the caller is no
 * longer allowed in, which aborts the transaction (nothing the request wrote survives)
 * and answers 401. One HTTP request to Neon either way, so the round-trip count is
 * unchanged; queue consumers and anonymous routes use the database unguarded.
 */
import { sql, type SQL } from "drizzle-orm";
import type { Principal } from "../features/auth/principal.ts";
import type { Database } from "./client.ts";

export const CREDENTIAL_REVOKED = "GS401";
/** An API token still stands but the roles it was cached with do not (drizzle/0008). */
export const PRINCIPAL_STALE = "GS409";

/**
 * The guard for a caller: an access token is held to the credentials_version it was
 * issued under; an API token to its row, and its cached principal to the version it
 * was looked up under.
 */
export function credentialGuard(principal: Principal): SQL {
  return sql`select ${guardCall(principal)}`;
}

function guardCall(principal: Principal): SQL {
  const apiTokenId = principal.credential.kind === "api_token" ? principal.credential.token_id : null;
  return sql`credential_guard(${principal.user_id}::integer, ${principal.credentials_version}::integer, ${apiTokenId}::integer)`;
}

const carriesGuard = new WeakSet<object>();

/**
 * The SELECT `query` behind the caller's guard, in one statement. The query refers to the
 * guard's outcome, so the guard runs first (a revoked caller never waits for the query's
 * locks) and once, whatever the query returns. A batch that starts with one sends no
 * guard statement ahead of it: a write whose first statement is only a lock (a save's
 * job lock) then costs the database one statement fewer.
 */
export function selectGuarded(principal: Principal, query: SQL): SQL {
  const statement = sql`select body.* from (select ${guardCall(principal)}::text as passed) guard
    left join lateral (select * from (${query}) guarded where guard.passed is not null) body on true`;
  carriesGuard.add(statement);
  return statement;
}

type Executable = ReturnType<Database["execute"]>;

/**
 * The request's database handle with the guard riding in front of every call.
 * `execute` stays lazy (runWrite hands its statements to `batch`), so it returns a
 * stand-in that runs `[guard, statement]` only when awaited, and `batch` unwraps
 * stand-ins back to the statements they stand for. A statement that carries the guard
 * (`selectGuarded`) needs neither.
 */
export function guardedDatabase(db: Database, guard: SQL): Database {
  const statementOf = new WeakMap<object, Executable>();
  const guarding = new WeakSet<object>();
  const execute = (query: Parameters<Database["execute"]>[0]) => {
    const statement = db.execute(query);
    if (carriesGuard.has(query as object)) {
      guarding.add(statement);
      return statement;
    }
    const standIn = Object.create(statement) as Executable;
    Object.defineProperty(standIn, "then", {
      value: (onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) =>
        db.batch([db.execute(guard), statement]).then(([, result]) => result).then(onFulfilled, onRejected),
    });
    statementOf.set(standIn, statement);
    return standIn;
  };
  const batch = async (queries: readonly Executable[]) => {
    const statements = queries.map((query) => statementOf.get(query) ?? query);
    // First, so that nothing before it (an Idempotency-Key's reservation) can answer a revoked caller.
    if (guarding.has(statements[0]!)) return db.batch(statements as unknown as Parameters<Database["batch"]>[0]);
    const results = await db.batch([db.execute(guard), ...statements] as unknown as Parameters<Database["batch"]>[0]);
    return results.slice(1);
  };
  return new Proxy(db, {
    get(target, property, receiver) {
      if (property === "execute") return execute;
      if (property === "batch") return batch;
      return Reflect.get(target, property, receiver);
    },
  });
}
