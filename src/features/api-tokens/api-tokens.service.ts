import { sql } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import { generateToken, hashToken, TOKEN_PREFIXES } from "../../lib/opaque-tokens.ts";
import { decodeCursor, encodeCursor, type Page } from "../../lib/pagination.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { runWrite } from "../../lib/write.ts";
import type { Principal } from "../auth/principal.ts";
import { cachedPrincipal, rememberPrincipal } from "./api-token-cache.ts";
import { ACTIVE_USER, principalFromRow, rolesAndPermissionsColumns, type PrincipalRow } from "../auth/principal.queries.ts";

/**
 * The caller behind an API token: from this isolate's cache when it has seen the token
 * (no round trip; the credential guard checks it in the request's own calls), else found
 * live by its hash together with its owner's roles and permissions (one round trip).
 * last_used_at is kept, to the minute, by the guard.
 */
export async function authenticateApiToken(db: Database, token: string): Promise<Principal | null> {
  const hash = await hashToken(token);
  const cached = cachedPrincipal(hash);
  if (cached) return cached;
  const result = await db.execute(sql`
    with found as (
      select t.token_id, u.user_id, u.org_id, o.kind as org_kind, u.credentials_version
      from api_token t
      join "user" u on u.user_id = t.user_id
      join organization o on o.org_id = u.org_id
      where t.token_hash = ${hash} and t.revoked_at is null
        and (t.expires_at is null or t.expires_at > now()) and ${ACTIVE_USER}
    )
    select found.*, ${rolesAndPermissionsColumns(sql`found.user_id`)} from found`);
  const row = result.rows[0] as (PrincipalRow & { token_id: number }) | undefined;
  if (!row) return null;
  const principal = principalFromRow(row, { kind: "api_token", token_id: row.token_id });
  rememberPrincipal(hash, principal);
  return principal;
}

type ApiTokenRow = {
  token_id: number;
  name: string;
  prefix: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
};

function present(row: ApiTokenRow) {
  return {
    token_id: row.token_id,
    name: row.name,
    prefix: row.prefix,
    created_at: isoTimestamp(row.created_at),
    expires_at: isoTimestamp(row.expires_at),
    last_used_at: isoTimestamp(row.last_used_at),
  };
}

export type ApiTokenView = ReturnType<typeof present>;

export async function createApiToken(ctx: AuthenticatedContext, input: { name: string; expires_at?: string | undefined }) {
  const { token, hash, display_prefix } = await generateToken(TOKEN_PREFIXES.apiToken);
  const [created] = await runWrite(ctx, [
    sql`with created as (
        insert into api_token (user_id, name, prefix, token_hash, expires_at)
        values (${ctx.principal.user_id}, ${input.name}, ${display_prefix}, ${hash}, ${input.expires_at ?? null})
        returning *
      ), audited as (
        ${auditInsert(ctx, {
          action: "api_token.create",
          entity_type: "api_token",
          entity_id: sql`created.token_id`,
          org_id: ctx.principal.org_id,
          after: sql`jsonb_build_object('name', created.name, 'prefix', created.prefix, 'expires_at', created.expires_at)`,
        }, sql`created`)}
      )
      select token_id, name, prefix, created_at, expires_at, last_used_at from created`,
  ]);
  return { ...present(created![0] as ApiTokenRow), token };
}

export async function listApiTokens(ctx: AuthenticatedContext, query: { limit: number; cursor?: string | undefined }): Promise<Page<ApiTokenView>> {
  const after = query.cursor ? decodeCursor(query.cursor, "token_id") : null;
  const result = await ctx.db.execute(sql`
    select token_id, name, prefix, created_at, expires_at, last_used_at from api_token
    where user_id = ${ctx.principal.user_id} and revoked_at is null
      ${after ? sql`and token_id > ${Number(after.id)}` : sql``}
    order by token_id limit ${query.limit + 1}`);
  const rows = result.rows as ApiTokenRow[];
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    data: page.map(present),
    next_cursor: rows.length > query.limit && last ? encodeCursor("token_id", null, last.token_id) : null,
  };
}

/** Revocation takes effect at once: the next request with the token finds no live row. */
export async function revokeApiToken(ctx: AuthenticatedContext, tokenId: number): Promise<void> {
  const [revoked] = await runWrite(ctx, [
    sql`with revoked as (
        update api_token set revoked_at = now()
        where token_id = ${tokenId} and user_id = ${ctx.principal.user_id} and revoked_at is null
        returning token_id, name
      ), audited as (
        ${auditInsert(ctx, {
          action: "api_token.revoke",
          entity_type: "api_token",
          entity_id: sql`revoked.token_id`,
          org_id: ctx.principal.org_id,
          before: sql`jsonb_build_object('revoked_at', null)`,
          after: sql`jsonb_build_object('revoked_at', now())`,
        }, sql`revoked`)}
      )
      select token_id from revoked`,
  ]);
  if (revoked!.length === 0) throw new ApiError("not_found", `API token ${tokenId} does not exist.`);
}
