/**
 * Accounts for tests, written straight to the database and signed in with the test run's
 * signing keys: what /auth/register and /auth/login would store and answer, without a
 * scrypt derivation per user (N=2^14, r=8, p=5 is the slowest thing a test can do).
 * Every user gets the one password hash the global setup derived (TEST_PASSWORD), so the
 * real sign-in still works for whoever wants it. The real endpoints are tested in
 * auth, users, account and revocation tests; `registerClientViaApi` and `login` go
 * through them for tests that judge what they write.
 */
import { env } from "cloudflare:test";
import { sql, type SQL } from "drizzle-orm";
import { inject } from "vitest";
import type { RoleName } from "../../src/db/seed/catalog.ts";
import { loadConfig } from "../../src/env.ts";
import { signAccessToken } from "../../src/features/auth/access-tokens.ts";
import type { PrincipalRow } from "../../src/features/auth/principal.queries.ts";
import { generateToken, TOKEN_PREFIXES } from "../../src/lib/opaque-tokens.ts";
import { testDb } from "./db.ts";
import { request } from "./http.ts";
import { TEST_PASSWORD } from "./test-password.ts";

export { TEST_PASSWORD };

// Once per file: the key ring behind signAccessToken is cached per key set object.
const config = loadConfig(env);

export function unique(prefix: string) {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** A fresh client address per sign-in, so the per-address throttle never couples tests. */
export function clientAddress() {
  const bytes = crypto.getRandomValues(new Uint8Array(3));
  return `10.${bytes[0]}.${bytes[1]}.${bytes[2]}`;
}

export type Account = {
  user_id: number;
  org_id: number;
  email: string;
  token: string;
  refresh_token: string;
};

/** Signs in through the real POST /auth/login (a scrypt verification). */
export async function login(email: string, password = TEST_PASSWORD) {
  const response = await request("POST", "/api/v1/auth/login", {
    body: { email, password },
    headers: { "cf-connecting-ip": clientAddress() },
  });
  if (response.status !== 200) throw new Error(`login ${email} failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as { access_token: string; refresh_token: string };
}

/** A new client organization and its client_admin, through the real POST /auth/register (audited, scrypt). */
export async function registerClientViaApi(): Promise<Account & { organization_name: string }> {
  const email = `${unique("admin")}@client.test`;
  const organization_name = unique("Client Org");
  const response = await request("POST", "/api/v1/auth/register", {
    body: { email, password: TEST_PASSWORD, full_name: "Client Admin", organization_name },
    headers: { "cf-connecting-ip": clientAddress() },
  });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${JSON.stringify(response.body)}`);
  const me = await request("GET", "/api/v1/auth/me", { token: response.body.access_token });
  return {
    user_id: me.body.user.user_id,
    org_id: me.body.organization.org_id,
    email,
    organization_name,
    token: response.body.access_token,
    refresh_token: response.body.refresh_token,
  };
}

type SignedInRow = PrincipalRow & { session_id: string };

/**
 * The tail of a statement whose `created` CTE inserted one user with one role: that
 * user's session (refresh token) and the principal an access token is signed for. The
 * role's rows are read from `role`, as register does: a statement cannot see the rows
 * it inserts (user_role, and for a new organization its kind, which the caller passes).
 */
function sessionAndPrincipal(role: RoleName, refreshHash: string, orgKind: SQL) {
  return sql`, granted as (
      insert into user_role (user_id, role_id) select created.user_id, role.role_id from created, role where role.name = ${role}
    ), session as (
      insert into refresh_token (user_id, token_hash, expires_at)
      select user_id, ${refreshHash}, now() + make_interval(days => ${config.REFRESH_TOKEN_TTL_DAYS}) from created
      returning family_id
    )
    select created.user_id, created.org_id, ${orgKind} as org_kind, created.credentials_version,
      (select family_id from session) as session_id,
      json_build_array(${role}::text) as roles,
      (select coalesce(json_agg(distinct p.name order by p.name), '[]'::json)
        from role r join role_permission rp on rp.role_id = r.role_id join permission p on p.permission_id = rp.permission_id
        where r.name = ${role}) as permissions
    from created`;
}

async function signedIn(row: SignedInRow, email: string, refreshToken: string): Promise<Account> {
  return { user_id: row.user_id, org_id: row.org_id, email, token: await signAccessToken(config, row), refresh_token: refreshToken };
}

/** A new client organization and its client_admin, signed in (no audit rows: see registerClientViaApi). */
export async function registerClient(): Promise<Account & { organization_name: string }> {
  const email = `${unique("admin")}@client.test`;
  const organization_name = unique("Client Org");
  const refresh = await generateToken(TOKEN_PREFIXES.refreshToken);
  const result = await testDb().execute(sql`with org as (
      insert into organization (name, kind) values (${organization_name}, 'client') returning org_id
    ), created as (
      insert into "user" (org_id, email, full_name, password_hash)
      select org_id, ${email}, 'Client Admin', ${inject("testPasswordHash")} from org
      returning user_id, org_id, credentials_version
    )${sessionAndPrincipal("client_admin", refresh.hash, sql`'client'::organization_kind`)}`);
  const row = result.rows[0] as SignedInRow;
  return { ...(await signedIn(row, email, refresh.token)), organization_name };
}

export async function platformOrgId(): Promise<number> {
  const result = await testDb().execute(sql`select org_id from organization where kind = 'platform'`);
  return (result.rows[0] as { org_id: number }).org_id;
}

/** A user with one role in an organization (the platform one by default), signed in. */
export async function createUser(role: RoleName, orgId?: number): Promise<Account> {
  const email = `${unique(role)}@example.test`;
  const refresh = await generateToken(TOKEN_PREFIXES.refreshToken);
  const org = orgId === undefined ? sql`(select org_id from organization where kind = 'platform')` : sql`${orgId}::integer`;
  const result = await testDb().execute(sql`with created as (
      insert into "user" (org_id, email, full_name, password_hash)
      values (${org}, ${email}, ${`Test ${role}`}, ${inject("testPasswordHash")})
      returning user_id, org_id, credentials_version
    )${sessionAndPrincipal(role, refresh.hash, sql`(select kind from organization where org_id = created.org_id)`)}`);
  const row = result.rows[0] as SignedInRow | undefined;
  if (!row) throw new Error(`createUser(${role}, ${orgId}) inserted no user`);
  return signedIn(row, email, refresh.token);
}

export { env };
