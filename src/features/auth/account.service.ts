/**
 * The caller's own account, for every role: read it, rename yourself, change your
 * password. A password change ends every other session in the same statement (access
 * tokens through credentials_version, refresh tokens but the caller's own family, all
 * API tokens) and hands the caller a fresh access token for the session they keep.
 */
import { sql, type SQL } from "drizzle-orm";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { runWrite } from "../../lib/write.ts";
import type { PermissionName, RoleName } from "../../db/seed/catalog.ts";
import { signAccessToken } from "./access-tokens.ts";
import { throttle } from "./auth.service.ts";
import { bumpCredentialsVersion, revokeCredentials } from "./credential-revocation.ts";
import { hashPassword, verifyPassword } from "./password.ts";
import { ACTIVE_USER, rolesAndPermissionsColumns } from "./principal.queries.ts";

type MeRow = {
  user_id: number;
  email: string;
  full_name: string;
  is_active: boolean;
  last_login_at: string | null;
  created_at: string;
  updated_at: string;
  org_id: number;
  org_name: string;
  org_kind: "platform" | "client";
  org_created_at: string;
  roles: RoleName[];
  permissions: PermissionName[];
  credentials_version: number;
};

/** The columns of the answer, over the user `u` and its organization `o`. */
const ME_COLUMNS: SQL = sql`u.user_id, u.email, u.full_name, u.is_active, u.last_login_at, u.created_at, u.updated_at,
  u.credentials_version, o.org_id, o.name as org_name, o.kind as org_kind, o.created_at as org_created_at,
  ${rolesAndPermissionsColumns(sql`u.user_id`)}`;

function present(ctx: AuthenticatedContext, row: MeRow) {
  return {
    user: {
      user_id: row.user_id,
      email: row.email,
      full_name: row.full_name,
      is_active: row.is_active,
      last_login_at: isoTimestamp(row.last_login_at),
      created_at: isoTimestamp(row.created_at),
      updated_at: isoTimestamp(row.updated_at),
    },
    organization: { org_id: row.org_id, name: row.org_name, kind: row.org_kind, created_at: isoTimestamp(row.org_created_at) },
    roles: row.roles,
    permissions: row.permissions,
    credential: ctx.principal.credential.kind,
  };
}

export async function currentUser(ctx: AuthenticatedContext) {
  const result = await ctx.db.execute(sql`select ${ME_COLUMNS}
    from "user" u join organization o on o.org_id = u.org_id
    where u.user_id = ${ctx.principal.user_id} and ${ACTIVE_USER}`);
  const row = result.rows[0] as MeRow | undefined;
  if (!row) throw new ApiError("unauthorized", "This account no longer exists or is disabled.");
  return present(ctx, row);
}

export type UpdateCurrentUserInput = { full_name?: string | undefined; password?: string | undefined; current_password?: string | undefined };

/** The stored hash, after the current password was checked against it (a second round trip, as for sign-in). */
async function verifiedCurrentHash(ctx: AuthenticatedContext, currentPassword: string | undefined): Promise<string> {
  if (!currentPassword) {
    throw new ApiError("validation_failed", "Changing the password needs the current one.", {
      errors: [{ path: "body.current_password", message: "is required to change the password" }],
    });
  }
  // Per account, with the sign-in limiter: guessing the current password here is sign-in by another door.
  await throttle(ctx.config.LOGIN_LIMITER, [`password-change:user:${ctx.principal.user_id}`]);
  const result = await ctx.db.execute(sql`select password_hash from "user" where user_id = ${ctx.principal.user_id}`);
  const stored = (result.rows[0] as { password_hash: string } | undefined)?.password_hash;
  if (!stored || !(await verifyPassword(currentPassword, stored))) {
    throw new ApiError("validation_failed", "The current password is incorrect.", {
      errors: [{ path: "body.current_password", message: "is incorrect" }],
    });
  }
  return stored;
}

/**
 * Renaming is one round trip; a password change two (the stored hash must be read and
 * checked before the write, as at sign-in). The write only lands if the hash is still
 * the one that was checked, so two concurrent changes cannot both succeed.
 */
export async function updateCurrentUser(ctx: AuthenticatedContext, input: UpdateCurrentUserInput) {
  const changesPassword = input.password !== undefined;
  const checkedHash = changesPassword ? await verifiedCurrentHash(ctx, input.current_password) : null;
  const newHash = changesPassword ? await hashPassword(input.password!) : null;
  const sessionId = ctx.principal.credential.kind === "access_token" ? ctx.principal.credential.session_id : null;
  const revocation = revokeCredentials(sql`select user_id from updated`, { apiTokens: true, keepFamily: sessionId });
  const [rows] = await runWrite(ctx, [
    sql`with target as (
        select u.user_id, u.org_id, u.full_name from "user" u where u.user_id = ${ctx.principal.user_id} for update
      ), updated as (
        update "user" u set
          full_name = coalesce(${input.full_name ?? null}::text, u.full_name),
          password_hash = coalesce(${newHash}::text, u.password_hash),
          ${changesPassword ? sql`${bumpCredentialsVersion("u")},` : sql``}
          updated_at = now()
        from target where u.user_id = target.user_id
          ${checkedHash === null ? sql`` : sql`and u.password_hash = ${checkedHash}`}
        returning u.*
      )${changesPassword ? sql`, ${revocation.ctes}` : sql``}, audited as (
        ${auditInsert(ctx, {
          action: "user.update_self",
          entity_type: "user",
          entity_id: sql`updated.user_id`,
          org_id: sql`updated.org_id`,
          before: sql`case when target.full_name is distinct from updated.full_name
            then jsonb_build_object('full_name', target.full_name) else '{}'::jsonb end`,
          // The password itself is never recorded, only that it was replaced and what that ended.
          after: sql`case when target.full_name is distinct from updated.full_name
            then jsonb_build_object('full_name', updated.full_name) else '{}'::jsonb end
            || ${changesPassword ? sql`jsonb_build_object('password_changed', true) || ${revocation.summary}` : sql`'{}'::jsonb`}`,
        }, sql`target join updated on updated.user_id = target.user_id`)}
      )
      select ${ME_COLUMNS} from updated u join organization o on o.org_id = u.org_id`,
  ]);
  const row = rows![0] as MeRow | undefined;
  if (!row) throw new ApiError("conflict", "The password was changed meanwhile by another request; sign in again.");
  const me = present(ctx, row);
  if (!changesPassword) return me;
  const access_token = await signAccessToken(ctx.config, {
    user_id: row.user_id,
    org_id: row.org_id,
    org_kind: row.org_kind,
    roles: row.roles,
    permissions: row.permissions,
    credentials_version: row.credentials_version,
    session_id: sessionId,
  });
  return { ...me, access_token, token_type: "Bearer" as const, expires_in: ctx.config.ACCESS_TOKEN_TTL_SECONDS };
}
