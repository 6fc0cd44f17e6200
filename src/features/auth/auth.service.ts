import { sql } from "drizzle-orm";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import { generateToken, hashToken, TOKEN_PREFIXES } from "../../lib/opaque-tokens.ts";
import { postgresErrorOf, UNIQUE_VIOLATION } from "../../lib/postgres-errors.ts";
import type { ServiceContext } from "../../lib/service-context.ts";
import { runWrite } from "../../lib/write.ts";
import { signAccessToken } from "./access-tokens.ts";
import { hashPassword, needsRehash, verifyPassword } from "./password.ts";
import { ACTIVE_USER, principalFromRow, rolesAndPermissionsColumns, type PrincipalRow } from "./principal.queries.ts";

export type TokenPair = { access_token: string; refresh_token: string; token_type: "Bearer"; expires_in: number };

// Verified when the email is unknown, so a wrong email costs what a wrong password does.
let decoyHash: Promise<string> | undefined;

function refreshExpiry(ctx: ServiceContext) {
  return sql`now() + make_interval(days => ${ctx.config.REFRESH_TOKEN_TTL_DAYS})`;
}

async function issueTokens(ctx: ServiceContext, subject: PrincipalRow & { session_id: string }, refreshToken: string): Promise<TokenPair> {
  return {
    access_token: await signAccessToken(ctx.config, subject),
    refresh_token: refreshToken,
    token_type: "Bearer",
    expires_in: ctx.config.ACCESS_TOKEN_TTL_SECONDS,
  };
}

/** Per account and per client address; a refusal is 429 with the limiter's period as Retry-After. */
export async function throttle(limiter: RateLimit, keys: string[]) {
  for (const key of keys) {
    const { success } = await limiter.limit({ key });
    if (!success) {
      throw new ApiError("rate_limited", "Too many attempts; wait a minute and try again.", { headers: { "Retry-After": "60" } });
    }
  }
}

function normaliseEmail(email: string) {
  return email.trim().toLowerCase();
}

/** A new client organization and its client_admin, signed in: one statement. */
export async function register(
  ctx: ServiceContext,
  input: { email: string; password: string; full_name: string; organization_name: string },
  clientAddress: string,
): Promise<TokenPair> {
  const email = normaliseEmail(input.email);
  await throttle(ctx.config.REGISTER_LIMITER, [`register:address:${clientAddress}`]);
  const passwordHash = await hashPassword(input.password);
  const refresh = await generateToken(TOKEN_PREFIXES.refreshToken);
  try {
    const [rows] = await runWrite(ctx, [
      sql`with org as (
          insert into organization (name, kind) values (${input.organization_name.trim()}, 'client') returning org_id, name
        ), created_user as (
          insert into "user" (org_id, email, full_name, password_hash)
          select org_id, ${email}, ${input.full_name.trim()}, ${passwordHash} from org
          returning user_id, org_id, email, full_name, credentials_version
        ), granted as (
          insert into user_role (user_id, role_id)
          select created_user.user_id, role.role_id from created_user, role where role.name = 'client_admin'
        ), session as (
          insert into refresh_token (user_id, token_hash, expires_at)
          select user_id, ${refresh.hash}, ${refreshExpiry(ctx)} from created_user
          returning family_id
        ), org_event as (
          ${auditInsert({ ...ctx, principal: null }, {
            action: "organization.create",
            entity_type: "organization",
            entity_id: sql`org.org_id`,
            org_id: sql`org.org_id`,
            after: sql`jsonb_build_object('name', org.name, 'kind', 'client')`,
          }, sql`org`)}
        ), user_event as (
          ${auditInsert({ ...ctx, principal: null }, {
            action: "user.register",
            entity_type: "user",
            entity_id: sql`created_user.user_id`,
            org_id: sql`created_user.org_id`,
            after: sql`jsonb_build_object('email', created_user.email, 'full_name', created_user.full_name, 'roles', jsonb_build_array('client_admin'))`,
          }, sql`created_user`)}
        )
        select created_user.user_id, created_user.org_id, 'client' as org_kind, created_user.credentials_version,
          (select family_id from session) as session_id,
          json_build_array('client_admin') as roles,
          (select coalesce(json_agg(distinct p.name order by p.name), '[]'::json)
            from role r join role_permission rp on rp.role_id = r.role_id join permission p on p.permission_id = rp.permission_id
            where r.name = 'client_admin') as permissions
        from created_user`,
    ]);
    return issueTokens(ctx, rows![0] as PrincipalRow & { session_id: string }, refresh.token);
  } catch (error) {
    const pgError = postgresErrorOf(error);
    if (pgError?.code === UNIQUE_VIOLATION && pgError.constraint?.startsWith("user_email")) {
      throw new ApiError("conflict", "An account with this email already exists.");
    }
    if (pgError?.code === UNIQUE_VIOLATION && pgError.constraint?.startsWith("organization_name")) {
      throw new ApiError("conflict", "An organization with this name already exists.");
    }
    throw error;
  }
}

type LoginRow = PrincipalRow & { password_hash: string };

/**
 * Two round trips by necessity: the stored hash must be read before it can be checked,
 * and only a verified login may write its session. Unknown email and wrong password
 * take the same time and get the same answer.
 */
export async function login(ctx: ServiceContext, input: { email: string; password: string }, clientAddress: string): Promise<TokenPair> {
  const email = normaliseEmail(input.email);
  await throttle(ctx.config.LOGIN_LIMITER, [`login:account:${email}`, `login:address:${clientAddress}`]);
  const result = await ctx.db.execute(sql`
    select u.user_id, u.org_id, o.kind as org_kind, u.credentials_version, u.password_hash, ${rolesAndPermissionsColumns(sql`u.user_id`)}
    from "user" u join organization o on o.org_id = u.org_id
    where u.email = ${email} and ${ACTIVE_USER}`);
  const found = result.rows[0] as LoginRow | undefined;
  const valid = await verifyPassword(input.password, found?.password_hash ?? (await (decoyHash ??= hashPassword("decoy"))));
  if (!found || !valid) throw new ApiError("unauthorized", "The email or password is incorrect.");

  const rehash = needsRehash(found.password_hash) ? await hashPassword(input.password) : null;
  const refresh = await generateToken(TOKEN_PREFIXES.refreshToken);
  const ctxAsUser = { ...ctx, principal: principalFromRow(found, { kind: "access_token", session_id: null }) };
  const [rows] = await runWrite(ctx, [
    sql`with session as (
        insert into refresh_token (user_id, token_hash, expires_at)
        values (${found.user_id}, ${refresh.hash}, ${refreshExpiry(ctx)}) returning token_id, family_id
      ), signed_in as (
        update "user" set last_login_at = now() ${rehash ? sql`, password_hash = ${rehash}` : sql``}
        where user_id = ${found.user_id}
      ), audited as (
        ${auditInsert(ctxAsUser, {
          action: "user.login",
          entity_type: "user",
          entity_id: found.user_id,
          org_id: found.org_id,
          after: sql`jsonb_build_object('password_rehashed', ${rehash !== null}::boolean)`,
        })}
      )
      select family_id as session_id from session`,
  ]);
  return issueTokens(ctx, { ...found, session_id: (rows![0] as { session_id: string }).session_id }, refresh.token);
}

type RefreshRow = Partial<PrincipalRow & { session_id: string }> & { reused: boolean };

/**
 * Rotation in one statement: the presented token is marked rotated and its successor
 * issued; a token that was already rotated is a replay (stolen or leaked), and the
 * whole family is revoked so neither the thief nor the owner can go on with it.
 *
 * Two refreshes of one token at once: the presented row is locked, so the second waits
 * and then reads it as rotated, which is reuse. It cannot see the successor the first
 * one inserted (that row is younger than its snapshot), so a family counts as revoked
 * once any of its tokens is: the successor dies with the rest.
 */
export async function refresh(ctx: ServiceContext, presented: string): Promise<TokenPair> {
  const presentedHash = await hashToken(presented);
  const successor = await generateToken(TOKEN_PREFIXES.refreshToken);
  const [rows] = await runWrite(ctx, [
    sql`with presented as (
        select t.token_id, t.user_id, t.family_id, t.rotated_at, t.revoked_at, t.expires_at, u.org_id
        from refresh_token t join "user" u on u.user_id = t.user_id join organization o on o.org_id = u.org_id
        where t.token_hash = ${presentedHash} and ${ACTIVE_USER}
        for update of t
      ), rotated as (
        update refresh_token set rotated_at = now()
        where token_id = (select token_id from presented) and rotated_at is null and revoked_at is null and expires_at > now()
          and not exists (select 1 from refresh_token member
            where member.family_id = (select family_id from presented) and member.revoked_at is not null)
        returning token_id, user_id, family_id
      ), revoked_family as (
        update refresh_token set revoked_at = now()
        where family_id = (select family_id from presented where rotated_at is not null) and revoked_at is null
        returning token_id
      ), issued as (
        insert into refresh_token (user_id, family_id, token_hash, parent_token_id, expires_at)
        select user_id, family_id, ${successor.hash}, token_id, ${refreshExpiry(ctx)} from rotated
      ), reuse_event as (
        ${auditInsert({ ...ctx, principal: null }, {
          action: "refresh_token.reuse_detected",
          entity_type: "refresh_token",
          entity_id: sql`presented.token_id`,
          org_id: sql`presented.org_id`,
          after: sql`jsonb_build_object('family_revoked', true)`,
        }, sql`presented where presented.rotated_at is not null`)}
      )
      select exists (select 1 from presented where rotated_at is not null) as reused,
        u.user_id, u.org_id, o.kind as org_kind, u.credentials_version, rotated.family_id as session_id,
        ${rolesAndPermissionsColumns(sql`rotated.user_id`)}
      from (select 1) as anchor
      left join rotated on true
      left join "user" u on u.user_id = rotated.user_id
      left join organization o on o.org_id = u.org_id`,
  ]);
  const row = rows![0] as RefreshRow;
  if (row.reused) throw new ApiError("unauthorized", "This refresh token was already used; every session it belonged to is now revoked.");
  if (!row.user_id) throw new ApiError("unauthorized", "The refresh token is invalid, expired or revoked.");
  return issueTokens(ctx, row as PrincipalRow & { session_id: string }, successor.token);
}

/** Revokes the presented token's whole family. Unknown tokens are ignored: logout always succeeds. */
export async function logout(ctx: ServiceContext, presented: string): Promise<void> {
  const presentedHash = await hashToken(presented);
  await runWrite(ctx, [
    sql`with family as (
        select t.token_id, t.family_id, t.user_id, u.org_id from refresh_token t join "user" u on u.user_id = t.user_id
        where t.token_hash = ${presentedHash}
      ), revoked as (
        update refresh_token set revoked_at = now()
        where family_id = (select family_id from family) and revoked_at is null returning token_id
      )
      ${auditInsert({ ...ctx, principal: null }, {
        action: "user.logout",
        entity_type: "user",
        entity_id: sql`family.user_id`,
        org_id: sql`family.org_id`,
        after: sql`jsonb_build_object('sessions_revoked', (select count(*) from revoked))`,
      }, sql`family`)}`,
  ]);
}
