/**
 * GET|PATCH /auth/me: every role reads and renames itself and changes its own password.
 * A password change needs the current password, ends every other session (their access
 * tokens, refresh tokens and all API tokens) in the same statement, and keeps the
 * caller's own session going with a fresh access token.
 */
import { describe, expect, it } from "vitest";
import type { RoleName } from "../src/db/seed/catalog.ts";
import { sql, testDb } from "./helpers/db.ts";
import { createUser, login, registerClient, TEST_PASSWORD, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

const db = testDb();
const NEW_PASSWORD = "a brand new passphrase";

const ROLES: RoleName[] = ["admin", "pm", "annotator", "reviewer", "qc", "client_admin", "client_member"];

async function accountWithRole(role: RoleName): Promise<Account> {
  if (role === "client_admin") return registerClient();
  if (role === "client_member") return createUser("client_member", (await registerClient()).org_id);
  return createUser(role);
}

describe("GET|PATCH /auth/me", () => {
  it.each(ROLES)("lets a %s read and rename themselves in one round trip each, audited", async (role) => {
    const account = await accountWithRole(role);
    const read = await request("GET", "/api/v1/auth/me", { token: account.token });
    expect(read.status).toBe(200);
    expect(read.body.roles).toEqual([role]);
    expect(read.roundTrips).toBe(1);

    const renamed = await request("PATCH", "/api/v1/auth/me", { token: account.token, body: { full_name: "  New Name " } });
    expect(renamed.status).toBe(200);
    expect(renamed.roundTrips).toBe(1);
    expect(renamed.body.user.full_name).toBe("New Name");
    expect(renamed.body.access_token).toBeUndefined();
    const events = await db.execute(sql`select before, after from event_log
      where actor_id = ${account.user_id} and action = 'user.update_self'`);
    expect(events.rows).toEqual([{ before: { full_name: `Test ${role}`.replace("Test client_admin", "Client Admin") }, after: { full_name: "New Name" } }]);
    // A rename ends nothing.
    expect((await request("GET", "/api/v1/auth/me", { token: account.token })).status).toBe(200);
  });

  it.each(ROLES)("lets a %s change their own password", async (role) => {
    const account = await accountWithRole(role);
    const changed = await request("PATCH", "/api/v1/auth/me", { token: account.token, body: { password: NEW_PASSWORD, current_password: TEST_PASSWORD } });
    expect(changed.status).toBe(200);
    expect((await request("GET", "/api/v1/auth/me", { token: changed.body.access_token })).status).toBe(200);
    await login(account.email, NEW_PASSWORD);
  });

  it("ends every other session, access token and API token, and keeps the caller's own", async () => {
    const account = await registerClient();
    const otherSession = await login(account.email);
    const script = await request("POST", "/api/v1/api-tokens", { token: account.token, body: { name: "nightly" } });
    expect(script.status).toBe(201);

    const changed = await request("PATCH", "/api/v1/auth/me", {
      token: account.token,
      body: { password: NEW_PASSWORD, current_password: TEST_PASSWORD },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ token_type: "Bearer", expires_in: expect.any(Number), access_token: expect.any(String) });
    // Reading the hash to check the current password, then the write.
    expect(changed.roundTrips).toBe(2);

    for (const token of [account.token, otherSession.access_token, script.body.token]) {
      expect((await request("GET", "/api/v1/auth/me", { token })).status).toBe(401);
    }
    expect((await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: otherSession.refresh_token } })).status).toBe(401);

    expect((await request("GET", "/api/v1/auth/me", { token: changed.body.access_token })).status).toBe(200);
    const own = await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: account.refresh_token } });
    expect(own.status).toBe(200);
    expect((await request("GET", "/api/v1/auth/me", { token: own.body.access_token })).status).toBe(200);

    const event = await db.execute(sql`select after from event_log where actor_id = ${account.user_id} and action = 'user.update_self'`);
    expect(event.rows).toEqual([{ after: { password_changed: true, sessions_revoked: 1, api_tokens_revoked: 1 } }]);
    expect(JSON.stringify(event.rows)).not.toContain(NEW_PASSWORD);
  });

  it("needs the current password, and a wrong one changes nothing (422 at body.current_password)", async () => {
    const account = await registerClient();
    const missing = await request("PATCH", "/api/v1/auth/me", { token: account.token, body: { password: NEW_PASSWORD } });
    expect(missing.status).toBe(422);
    expect(missing.body.errors).toEqual([{ path: "body.current_password", message: "is required to change the password" }]);
    const wrong = await request("PATCH", "/api/v1/auth/me", { token: account.token, body: { password: NEW_PASSWORD, current_password: "not it at all" } });
    expect(wrong.status).toBe(422);
    expect(wrong.body.errors).toEqual([{ path: "body.current_password", message: "is incorrect" }]);
    expect((await request("GET", "/api/v1/auth/me", { token: account.token })).status).toBe(200);
    await login(account.email, TEST_PASSWORD);
  });

  it("refuses an empty change, unknown fields and a short password (422)", async () => {
    const account = await registerClient();
    for (const body of [{}, { email: "x@y.test" }, { password: "short", current_password: TEST_PASSWORD }]) {
      const response = await request("PATCH", "/api/v1/auth/me", { token: account.token, body });
      expect(response.status, JSON.stringify(body)).toBe(422);
    }
  });

  it("lets only one of two concurrent password changes win", async () => {
    const account = await registerClient();
    const attempts = await Promise.all(
      ["first new passphrase", "second new passphrase"].map((password) =>
        request("PATCH", "/api/v1/auth/me", { token: account.token, body: { password, current_password: TEST_PASSWORD } }),
      ),
    );
    const statuses = attempts.map((attempt) => attempt.status).sort();
    // The loser either found the hash changed under it (409) or its own token already revoked (401).
    expect(statuses[0]).toBe(200);
    expect([401, 409]).toContain(statuses[1]);
  });
});
