/**
 * People. No statement here reads or returns `password_hash` except the one writing
 * it: every row a statement hands back, and every row an audit event is built from,
 * is limited to SAFE_COLUMNS.
 */
import { sql, type SQL } from "drizzle-orm";
import { userVisible } from "../../lib/access.ts";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import { etagOf, staleVersion } from "../../lib/etag.ts";
import { toPage, type Page } from "../../lib/pagination.ts";
import { refuse, requirePermission } from "../../lib/permissions.ts";
import { postgresErrorOf, UNIQUE_VIOLATION } from "../../lib/postgres-errors.ts";
import { assertMayIncludeDeleted, containsPattern, typedKeyset, type SortColumn } from "../../lib/query-params.ts";
import { changedFields, ifMatchVersion, versionMatches } from "../../lib/row-version.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { restore, softDelete, type SoftDeletable } from "../../lib/soft-delete.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { runWrite } from "../../lib/write.ts";
import { bumpCredentialsVersion, revokeCredentials } from "../auth/credential-revocation.ts";
import { hashPassword } from "../auth/password.ts";
import { can, isPlatformAdmin } from "../auth/principal.ts";
import { assertGrantable, grantable, grantCheckColumns, REQUESTED_ROLE_NAMES, REQUESTED_ROLES, type GrantChecks } from "./role-grants.ts";

type UserRow = {
  user_id: number;
  org_id: number;
  email: string;
  full_name: string;
  is_active: boolean;
  roles: string[];
  last_login_at: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
};

function safeColumns(alias: string): SQL {
  const u = sql.raw(alias);
  return sql`${u}.user_id, ${u}.org_id, ${u}.email, ${u}.full_name, ${u}.is_active, ${u}.last_login_at,
    ${u}.created_at, ${u}.updated_at, ${u}.deleted_at`;
}

function roleNamesOf(userId: SQL): SQL {
  return sql`(select coalesce(json_agg(r.name order by r.name), '[]'::json)
    from user_role ur join role r on r.role_id = ur.role_id where ur.user_id = ${userId})`;
}

/** What answers show of a user (alias `u`): the safe columns and the role names. */
function userColumns(alias: string): SQL {
  return sql`${safeColumns(alias)}, ${roleNamesOf(sql`${sql.raw(alias)}.user_id`)} as roles`;
}

/** Soft delete and restore read back only the safe columns. */
const USER: SoftDeletable = { entity: "user", table: `"user"`, alias: "u", key: "user_id", scope: ["org_id"], columns: safeColumns };

function present(row: UserRow) {
  return {
    user_id: row.user_id,
    org_id: row.org_id,
    email: row.email,
    full_name: row.full_name,
    is_active: row.is_active,
    roles: row.roles,
    last_login_at: isoTimestamp(row.last_login_at),
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
    deleted_at: isoTimestamp(row.deleted_at),
  };
}

export type UserView = ReturnType<typeof present>;

const versioned = (row: UserRow) => ({ body: present(row), etag: etagOf(row.updated_at) });

const notFoundDetail = (userId: number) => `User ${userId} does not exist.`;
const notFound = (userId: number) => new ApiError("not_found", notFoundDetail(userId));
const MANAGE_DENIED = "Your roles do not allow managing users.";

/** The user as the caller may see it (alias `u`, safe columns only), only if live when `liveOnly`. */
function visibleUser(ctx: AuthenticatedContext, userId: number, liveOnly: boolean): SQL {
  return sql`select ${safeColumns("u")} from "user" u
    where u.user_id = ${userId} and ${userVisible(ctx.principal, "u")} ${liveOnly ? sql`and u.deleted_at is null` : sql``}`;
}

function refuseManage(ctx: AuthenticatedContext, userId: number, liveOnly: boolean): Promise<never> {
  return refuse(ctx, visibleUser(ctx, userId, liveOnly), { forbidden: MANAGE_DENIED, notFound: notFoundDetail(userId) });
}

function notYourself(ctx: AuthenticatedContext, userId: number, what: string) {
  if (userId === ctx.principal.user_id) throw new ApiError("forbidden", `You cannot ${what} your own account; ask another administrator.`);
}

function emailClash(error: unknown): never {
  const pgError = postgresErrorOf(error);
  if (pgError?.code === UNIQUE_VIOLATION && pgError.constraint?.startsWith("user_email")) {
    throw new ApiError("conflict", "An account with this email already exists.");
  }
  throw error;
}

function normaliseEmail(email: string) {
  return email.trim().toLowerCase();
}

// ---------------------------------------------------------------- reads

const SORT_COLUMNS: Record<string, SortColumn> = {
  email: { sql: sql`u.email`, kind: "text" },
  full_name: { sql: sql`u.full_name`, kind: "text" },
  created_at: { sql: sql`u.created_at`, kind: "timestamp" },
};

export type ListUsersQuery = {
  limit: number;
  cursor?: string | undefined;
  sort: string;
  org_id?: number | undefined;
  role?: string | undefined;
  is_active?: boolean | undefined;
  q?: string | undefined;
  include_deleted: boolean;
};

export async function listUsers(ctx: AuthenticatedContext, query: ListUsersQuery): Promise<Page<UserView>> {
  requirePermission(ctx.principal, "user:read", "Your roles do not allow reading users.");
  assertMayIncludeDeleted(ctx.principal, query.include_deleted);
  const page = typedKeyset(query.sort, SORT_COLUMNS, sql`u.user_id`, query.cursor);
  const conditions = [
    userVisible(ctx.principal, "u"),
    query.include_deleted ? sql`true` : sql`u.deleted_at is null`,
    query.org_id === undefined ? sql`true` : sql`u.org_id = ${query.org_id}`,
    query.role === undefined
      ? sql`true`
      : sql`exists (select 1 from user_role ur join role r on r.role_id = ur.role_id where ur.user_id = u.user_id and r.name = ${query.role})`,
    query.is_active === undefined ? sql`true` : sql`u.is_active = ${query.is_active}`,
    query.q === undefined ? sql`true` : sql`(u.email ilike ${containsPattern(query.q)} or u.full_name ilike ${containsPattern(query.q)})`,
    page.where,
  ];
  const result = await ctx.db.execute(sql`select ${userColumns("u")} from "user" u
    where ${sql.join(conditions, sql` and `)}
    order by ${page.orderBy} limit ${query.limit + 1}`);
  const rows = result.rows as UserRow[];
  return toPage(rows, query.limit, query.sort, (row) => ({ value: row[page.field as keyof UserRow], id: row.user_id }), present);
}

export async function getUser(ctx: AuthenticatedContext, userId: number, options: { include_deleted: boolean }) {
  assertMayIncludeDeleted(ctx.principal, options.include_deleted);
  const result = await ctx.db.execute(sql`select ${userColumns("u")} from (${visibleUser(ctx, userId, !options.include_deleted)}) u`);
  const row = result.rows[0] as UserRow | undefined;
  if (!row) throw notFound(userId);
  requirePermission(ctx.principal, "user:read", "Your roles do not allow reading users.");
  return versioned(row);
}

// ---------------------------------------------------------------- create

export type CreateUserInput = { email: string; full_name: string; password: string; org_id?: number | undefined; roles?: string[] | undefined };

type CreatedRow = Partial<UserRow> & GrantChecks & { org_found: boolean };

/**
 * Platform admins create users in any live organization; everyone else with user:manage
 * only in their own. The organization, the roles and the grant are checked and written
 * in one statement; the password is hashed before it, and only the hash reaches SQL.
 */
export async function createUser(ctx: AuthenticatedContext, input: CreateUserInput) {
  requirePermission(ctx.principal, "user:manage", MANAGE_DENIED);
  const orgId = input.org_id ?? ctx.principal.org_id;
  const passwordHash = await hashPassword(input.password);
  const ownOrganizationOnly = isPlatformAdmin(ctx.principal) ? sql`true` : sql`o.org_id = ${ctx.principal.org_id}`;
  try {
    const [rows] = await runWrite(ctx, [
      sql`with target_org as (
          select o.org_id, o.kind::text as kind from organization o
          where o.org_id = ${orgId} and o.deleted_at is null and ${ownOrganizationOnly}
        ), names as (
          select coalesce(${input.roles ? JSON.stringify(input.roles) : null}::jsonb,
            case when target_org.kind = 'client' then '["client_member"]'::jsonb else '[]'::jsonb end) as list
          from target_org
        ), requested as (
          ${REQUESTED_ROLES}
        ), checks as (
          select exists (select 1 from target_org) as org_found, ${grantCheckColumns(sql`(select kind from target_org)`)}
        ), created as (
          insert into "user" as u (org_id, email, full_name, password_hash)
          select target_org.org_id, ${normaliseEmail(input.email)}, ${input.full_name}, ${passwordHash}
          from target_org, checks where ${grantable(ctx.principal)}
          returning ${safeColumns("u")}
        ), granted as (
          insert into user_role (user_id, role_id) select distinct created.user_id, requested.role_id from created, requested
        ), audited as (
          ${auditInsert(ctx, {
            action: "user.create",
            entity_type: "user",
            entity_id: sql`created.user_id`,
            org_id: sql`created.org_id`,
            after: sql`jsonb_build_object('email', created.email, 'full_name', created.full_name, 'is_active', created.is_active,
              'roles', ${REQUESTED_ROLE_NAMES})`,
          }, sql`created`)}
        )
        select checks.*, ${safeColumns("u")}, ${REQUESTED_ROLE_NAMES} as roles
        from checks left join created u on true`,
    ]);
    const row = rows![0] as CreatedRow;
    if (!row.org_found) throw new ApiError("not_found", `Organization ${orgId} does not exist.`);
    assertGrantable(ctx.principal, row, "body.roles");
    return versioned(row as UserRow);
  } catch (error) {
    emailClash(error);
  }
}

// ---------------------------------------------------------------- update, delete, restore

export type UpdateUserInput = { email?: string | undefined; full_name?: string | undefined; is_active?: boolean | undefined; password?: string | undefined };

type MutationRow = Partial<UserRow> & { found: boolean; changed: boolean };

/**
 * Deactivating a user or replacing their password ends everything they are signed in
 * with, in the same statement: access tokens (credentials_version), refresh and API tokens.
 */
export async function updateUser(ctx: AuthenticatedContext, userId: number, input: UpdateUserInput, ifMatch: string | undefined) {
  const version = ifMatchVersion(ifMatch);
  if (!can(ctx.principal, "user:manage")) return refuseManage(ctx, userId, true);
  if (input.is_active === false) notYourself(ctx, userId, "deactivate");
  if (input.is_active === true) notYourself(ctx, userId, "re-activate");
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  const endsSessions = input.is_active === false || passwordHash !== null;
  const revocation = revokeCredentials(sql`select user_id from updated`, { apiTokens: true });
  const changes = changedFields("target", "updated");
  try {
    const [rows] = await runWrite(ctx, [
      sql`with target as (
          ${visibleUser(ctx, userId, true)} for update of u
        ), updated as (
          update "user" u set
            email = coalesce(${input.email === undefined ? null : normaliseEmail(input.email)}::text, u.email),
            full_name = coalesce(${input.full_name ?? null}::text, u.full_name),
            is_active = coalesce(${input.is_active ?? null}::boolean, u.is_active),
            password_hash = coalesce(${passwordHash}::text, u.password_hash),
            ${endsSessions ? sql`${bumpCredentialsVersion("u")},` : sql``}
            updated_at = now()
          from target where u.user_id = target.user_id and ${versionMatches(sql`target.updated_at`, version)}
          returning ${safeColumns("u")}
        )${endsSessions ? sql`, ${revocation.ctes}` : sql``}, audited as (
          ${auditInsert(ctx, {
            action: "user.update",
            entity_type: "user",
            entity_id: sql`updated.user_id`,
            org_id: sql`updated.org_id`,
            before: changes.before,
            // The password itself is never recorded, only that it was replaced.
            after: sql`${changes.after} || ${passwordHash === null ? sql`'{}'::jsonb` : sql`'{"password_changed": true}'::jsonb`}
              || ${endsSessions ? revocation.summary : sql`'{}'::jsonb`}`,
          }, sql`target join updated on updated.user_id = target.user_id`)}
        )
        select exists (select 1 from target) as found, exists (select 1 from updated) as changed, ${userColumns("u")}
        from (select 1) as anchor left join updated u on true`,
    ]);
    const row = rows![0] as MutationRow;
    if (!row.found) throw notFound(userId);
    if (!row.changed) throw staleVersion();
    return versioned(row as UserRow);
  } catch (error) {
    emailClash(error);
  }
}

/**
 * Soft delete. The user's access tokens (credentials_version), refresh tokens and API
 * tokens are revoked in the same statement, so a later restore brings no old
 * credential back to life.
 */
export async function deleteUser(ctx: AuthenticatedContext, userId: number, ifMatch: string | undefined): Promise<void> {
  const version = ifMatchVersion(ifMatch);
  if (!can(ctx.principal, "user:manage")) return refuseManage(ctx, userId, true);
  notYourself(ctx, userId, "delete");
  await softDelete(ctx, USER, {
    target: visibleUser(ctx, userId, true),
    version,
    notFound: notFoundDetail(userId),
    alsoSet: bumpCredentialsVersion("u"),
    consequences: revokeCredentials(sql`select user_id from deleted`, { apiTokens: true }),
  });
}

/**
 * Undoes a soft delete. Whoever may manage the user may restore them (include_deleted
 * listing stays an admin tool), except the user themselves.
 */
export async function restoreUser(ctx: AuthenticatedContext, userId: number) {
  if (!can(ctx.principal, "user:manage")) return refuseManage(ctx, userId, false);
  notYourself(ctx, userId, "restore");
  const row = await restore<UserRow>(ctx, USER, {
    target: visibleUser(ctx, userId, false),
    answer: userColumns(USER.alias),
    notFound: notFoundDetail(userId),
    notDeleted: `User ${userId} is not deleted.`,
  });
  return versioned(row);
}

// ---------------------------------------------------------------- roles

type RolesRow = Partial<UserRow> & GrantChecks & { found: boolean; current: boolean; changed: boolean };

/**
 * Replaces the role set in one statement: the target is locked, the requested roles are
 * judged against its organization's kind and the caller, and only then are grants
 * removed and added. The user's updated_at moves, so its ETag changes with its roles.
 * Access tokens carry roles, so the change ends them (credentials_version) and the
 * user's refresh tokens: the new roles apply from the next sign-in. API tokens read the
 * roles on every request and keep working under the new ones.
 */
export async function setUserRoles(ctx: AuthenticatedContext, userId: number, roles: string[], ifMatch: string | undefined) {
  const version = ifMatchVersion(ifMatch);
  if (!can(ctx.principal, "user:manage")) return refuseManage(ctx, userId, true);
  notYourself(ctx, userId, "change the roles of");
  const roleRevocation = revokeCredentials(sql`select user_id from touched`, { apiTokens: false });
  const [rows] = await runWrite(ctx, [
    sql`with target as (
        select t.*, o.kind::text as org_kind
        from (${visibleUser(ctx, userId, true)} for update of u) t join organization o on o.org_id = t.org_id
      ), names as (
        select ${JSON.stringify(roles)}::jsonb as list
      ), requested as (
        ${REQUESTED_ROLES}
      ), previous as (
        select coalesce(jsonb_agg(r.name order by r.name), '[]'::jsonb) as roles
        from target join user_role ur on ur.user_id = target.user_id join role r on r.role_id = ur.role_id
      ), checks as (
        select exists (select 1 from target) as found,
          exists (select 1 from target where ${versionMatches(sql`target.updated_at`, version)}) as current,
          ${grantCheckColumns(sql`(select org_kind from target)`)}
      ), allowed as (
        select target.user_id from target, checks where checks.current and ${grantable(ctx.principal)}
      ), removed as (
        delete from user_role ur using allowed
        where ur.user_id = allowed.user_id and ur.role_id not in (select role_id from requested where role_id is not null)
      ), added as (
        insert into user_role (user_id, role_id) select distinct allowed.user_id, requested.role_id from allowed, requested
        on conflict do nothing
      ), touched as (
        update "user" u set updated_at = now(), ${bumpCredentialsVersion("u")} from allowed where u.user_id = allowed.user_id
        returning ${safeColumns("u")}
      ), ${roleRevocation.ctes}, audited as (
        ${auditInsert(ctx, {
          action: "user.set_roles",
          entity_type: "user",
          entity_id: sql`touched.user_id`,
          org_id: sql`touched.org_id`,
          before: sql`jsonb_build_object('roles', previous.roles)`,
          after: sql`jsonb_build_object('roles', ${REQUESTED_ROLE_NAMES}) || ${roleRevocation.summary}`,
        }, sql`touched, previous`)}
      )
      select checks.*, exists (select 1 from touched) as changed, ${safeColumns("u")}, ${REQUESTED_ROLE_NAMES} as roles
      from checks left join touched u on true`,
  ]);
  const row = rows![0] as RolesRow;
  if (!row.found) throw notFound(userId);
  assertGrantable(ctx.principal, row, "body.roles");
  if (!row.changed) throw staleVersion();
  return versioned(row as UserRow);
}
