import { sql, type SQL } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { hashToken } from "./opaque-tokens.ts";
import { ApiError } from "./errors.ts";
import type { AppEnv } from "./types.ts";

export type IdempotencyRequest = {
  caller: string;
  key: string;
  method: string;
  path: string;
  request_hash: string;
  /**
   * False for answers that carry a secret (tokens): those are never stored, so the key
   * is taken already completed, in the change's own batch, and a replay is a 409.
   */
  storesResponse: boolean;
  /** Set once the reservation committed with the change (see runWrite). */
  reserved: boolean;
};

/** Raised by runWrite when the key is taken; the middleware turns it into a replay, 409 or 422. */
export class IdempotencyKeyInUse extends ApiError {
  constructor() {
    super("conflict", "This Idempotency-Key is already in use.");
  }
}

/** Headers of the first response that a replay repeats. */
const REPLAYED_HEADERS = ["content-type", "etag", "location"];

/** The statements that take the key: an expired holder is cleared, then a clash aborts the batch. */
export function idempotencyReservation(request: IdempotencyRequest): SQL[] {
  return [
    sql`delete from idempotency_key where caller = ${request.caller} and key = ${request.key} and expires_at <= now()`,
    sql`insert into idempotency_key (caller, key, method, path, request_hash, status)
      values (${request.caller}, ${request.key}, ${request.method}, ${request.path}, ${request.request_hash},
        ${request.storesResponse ? "in_progress" : "withheld"})`,
  ];
}

type StoredKey = {
  status: "in_progress" | "completed" | "withheld";
  request_hash: string;
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: unknown;
};

/**
 * `Idempotency-Key` on POST: the first request that commits a change under a key owns
 * it; a replay within 24 h gets the stored status, headers and body with
 * `Idempotent-Replayed: true` and does nothing; the same key with a different body is
 * 422; the same key while the first request is still running is 409. Keys are scoped
 * to the caller (a user, or an anonymous client's address). Cost: the reservation rides
 * in the change's own batch; storing the response is the one extra round trip.
 *
 * Answers that carry a secret (sign-in, sign-up, refresh, a new API token) are never
 * stored: the secret would sit in the table and be shown twice. Their key is taken as
 * `withheld` in the change's own batch, and a replay is 409 `idempotency_key_used`.
 */
export const idempotent = (options: { storesResponse: boolean }) => createMiddleware<AppEnv>(async (c, next) => {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return next();
  if (key.length < 1 || key.length > 255) {
    throw new ApiError("validation_failed", "Idempotency-Key must be 1 to 255 characters.", {
      errors: [{ path: "header.idempotency-key", message: "must be 1 to 255 characters" }],
    });
  }
  const principal = c.get("principal");
  const caller = principal ? `user:${principal.user_id}` : `anonymous:${c.req.header("cf-connecting-ip") ?? "unknown"}`;
  const body = new TextDecoder().decode(await c.req.arrayBuffer());
  const request: IdempotencyRequest = {
    caller,
    key,
    method: c.req.method,
    path: c.req.path,
    request_hash: await hashToken(`${c.req.method} ${c.req.path}\n${body}`),
    storesResponse: options.storesResponse,
    reserved: false,
  };
  c.set("idempotency", request);
  const db = c.get("db");

  await next();
  // Hono hands a handler's error to onError before control returns here; c.error keeps it.
  if (c.error instanceof IdempotencyKeyInUse) {
    const result = await db.execute(sql`select status, request_hash, response_status, response_headers, response_body
      from idempotency_key where caller = ${caller} and key = ${key}`);
    const stored = result.rows[0] as StoredKey | undefined;
    if (!stored) throw new ApiError("conflict", "A request with this Idempotency-Key was just being processed; retry.");
    if (stored.request_hash !== request.request_hash) {
      throw new ApiError("validation_failed", "This Idempotency-Key was used with a different request; use a new key.", {
        errors: [{ path: "header.idempotency-key", message: "already used with a different request" }],
      });
    }
    if (stored.status === "in_progress") {
      throw new ApiError("conflict", "A request with this Idempotency-Key is still being processed; retry later.");
    }
    if (stored.status === "withheld") {
      throw new ApiError("idempotency_key_used", "This Idempotency-Key was already used, and its answer carried a secret that is never shown twice; use a new key.");
    }
    const headers = new Headers(stored.response_headers ?? {});
    headers.set("Idempotent-Replayed", "true");
    c.res = new Response(stored.response_body === null ? null : JSON.stringify(stored.response_body), {
      status: stored.response_status ?? 200,
      headers,
    });
    return;
  }

  if (!request.reserved || !request.storesResponse) return;
  if (c.res.status >= 500) {
    await db.execute(sql`delete from idempotency_key where caller = ${caller} and key = ${key}`);
    return;
  }
  const text = await c.res.clone().text();
  const headers = Object.fromEntries(REPLAYED_HEADERS.flatMap((name) => {
    const value = c.res.headers.get(name);
    return value === null ? [] : [[name, value]];
  }));
  await db.execute(sql`update idempotency_key
    set status = 'completed', response_status = ${c.res.status}, response_headers = ${JSON.stringify(headers)}::jsonb,
      response_body = ${text ? text : null}::jsonb
    where caller = ${caller} and key = ${key}`);
});
