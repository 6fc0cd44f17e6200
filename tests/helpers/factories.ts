import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import type { RoleName } from "../../src/db/seed/catalog.ts";
import { hashPassword } from "../../src/features/auth/password.ts";
import { testDb } from "./db.ts";
import { request } from "./http.ts";

export const TEST_PASSWORD = "correct horse battery staple";

let passwordHash: Promise<string> | undefined;

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

export async function login(email: string, password = TEST_PASSWORD) {
  const response = await request("POST", "/api/v1/auth/login", {
    body: { email, password },
    headers: { "cf-connecting-ip": clientAddress() },
  });
  if (response.status !== 200) throw new Error(`login ${email} failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as { access_token: string; refresh_token: string };
}

async function accountFor(email: string): Promise<Account> {
  const tokens = await login(email);
  const me = await request("GET", "/api/v1/auth/me", { token: tokens.access_token });
  return { user_id: me.body.user.user_id, org_id: me.body.organization.org_id, email, token: tokens.access_token, refresh_token: tokens.refresh_token };
}

/** A new client organization and its client_admin, through the public sign-up. */
export async function registerClient(): Promise<Account & { organization_name: string }> {
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

export async function platformOrgId(): Promise<number> {
  const result = await testDb().execute(sql`select org_id from organization where kind = 'platform'`);
  return (result.rows[0] as { org_id: number }).org_id;
}

/** A user with one role in an organization (the platform one by default), signed in. */
export async function createUser(role: RoleName, orgId?: number): Promise<Account> {
  const db = testDb();
  const org = orgId ?? (await platformOrgId());
  const email = `${unique(role)}@example.test`;
  await db.execute(sql`with created as (
      insert into "user" (org_id, email, full_name, password_hash)
      values (${org}, ${email}, ${`Test ${role}`}, ${await (passwordHash ??= hashPassword(TEST_PASSWORD))})
      returning user_id
    )
    insert into user_role (user_id, role_id) select created.user_id, role.role_id from created, role where role.name = ${role}`);
  return accountFor(email);
}

export { env };
