import { describe, expect, it } from "vitest";
import { sql, testDb } from "./helpers/db.ts";
import { registerClient } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

const db = testDb();

describe("API tokens", () => {
  it("creates a token whose secret is shown once and stored only as a hash", async () => {
    const account = await registerClient();
    const created = await request("POST", "/api/v1/api-tokens", { token: account.token, body: { name: "ci script" } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ token_id: expect.any(Number), name: "ci script", token: expect.stringMatching(/^gsk_/), expires_at: null });
    expect(created.body.token.startsWith(created.body.prefix)).toBe(true);

    const stored = await db.execute(sql`select token_hash from api_token where token_id = ${created.body.token_id}`);
    expect(JSON.stringify(stored.rows)).not.toContain(created.body.token);

    const list = await request("GET", "/api/v1/api-tokens", { token: account.token });
    expect(list.body.data).toEqual([expect.objectContaining({ token_id: created.body.token_id, name: "ci script" })]);
    expect(JSON.stringify(list.body)).not.toContain(created.body.token);
  });

  it("authenticates at no round trip of its own once the isolate has seen it, and keeps last_used_at", async () => {
    const account = await registerClient();
    const { body } = await request("POST", "/api/v1/api-tokens", { token: account.token, body: { name: "reader" } });
    const first = await request("GET", "/api/v1/auth/me", { token: body.token });
    expect(first.status).toBe(200);
    expect(first.body.credential).toBe("api_token");
    expect(first.body.user.user_id).toBe(account.user_id);
    // The lookup by hash, then the request's own statement.
    expect(first.roundTrips).toBe(2);
    const again = await request("GET", "/api/v1/auth/me", { token: body.token });
    expect(again.status).toBe(200);
    expect(again.roundTrips).toBe(1);
    const stored = await db.execute(sql`select last_used_at from api_token where token_id = ${body.token_id}`);
    expect((stored.rows[0] as { last_used_at: string | null }).last_used_at).not.toBeNull();
  });

  it("is refused at once when revoked, expired or its owner deactivated, though the isolate remembers it", async () => {
    const account = await registerClient();
    const mint = async (name: string) => (await request("POST", "/api/v1/api-tokens", { token: account.token, body: { name } })).body;
    const [revokedToken, expiringToken] = [await mint("to revoke"), await mint("to expire")];
    for (const token of [revokedToken, expiringToken]) expect((await request("GET", "/api/v1/auth/me", { token: token.token })).status).toBe(200);

    await db.execute(sql`update api_token set revoked_at = now() where token_id = ${revokedToken.token_id}`);
    await db.execute(sql`update api_token set expires_at = created_at + interval '1 millisecond' where token_id = ${expiringToken.token_id}`);
    for (const token of [revokedToken, expiringToken]) {
      const refused = await request("POST", "/api/v1/projects", { token: token.token, body: { name: `refused ${token.name}` } });
      expect(refused.status).toBe(401);
      expect(refused.roundTrips).toBe(1);
    }
    const created = await db.execute(sql`select count(*)::int as n from project where org_id = ${account.org_id}`);
    expect(created.rows).toEqual([{ n: 0 }]);
  });

  it("takes its owner's new roles at once: the stale principal is looked up afresh and the request runs again", async () => {
    const owner = await registerClient();
    const { body } = await request("POST", "/api/v1/api-tokens", { token: owner.token, body: { name: "roles" } });
    expect((await request("POST", "/api/v1/projects", { token: body.token, body: { name: "while admin" } })).status).toBe(201);
    // The owner becomes a member, as PUT /users/{id}/roles would make them (it also moves credentials_version).
    await db.execute(sql`with demoted as (delete from user_role where user_id = ${owner.user_id})
      insert into user_role (user_id, role_id) select ${owner.user_id}, role_id from role where name = 'client_member'`);
    await db.execute(sql`update "user" set credentials_version = credentials_version + 1 where user_id = ${owner.user_id}`);

    const refused = await request("POST", "/api/v1/projects", { token: body.token, body: { name: "as a member" } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("x-grandscale-stale-principal")).toBeNull();
    const me = await request("GET", "/api/v1/auth/me", { token: body.token });
    expect(me.body.roles).toEqual(["client_member"]);
    expect(me.roundTrips).toBe(1);
    const projects = await db.execute(sql`select name from project where org_id = ${owner.org_id} order by project_id`);
    expect(projects.rows).toEqual([{ name: "while admin" }]);
  });

  it("is refused at once after revocation", async () => {
    const account = await registerClient();
    const { body } = await request("POST", "/api/v1/api-tokens", { token: account.token, body: { name: "short-lived" } });
    expect((await request("GET", "/api/v1/auth/me", { token: body.token })).status).toBe(200);
    const revoked = await request("DELETE", `/api/v1/api-tokens/${body.token_id}`, { token: account.token });
    expect(revoked.status).toBe(204);
    const after = await request("GET", "/api/v1/auth/me", { token: body.token });
    expect(after.status).toBe(401);
    expect(after.headers.get("content-type")).toBe("application/problem+json");
  });

  it("answers a second revocation 404 and audits only the first", async () => {
    const account = await registerClient();
    const { body } = await request("POST", "/api/v1/api-tokens", { token: account.token, body: { name: "twice" } });
    expect((await request("DELETE", `/api/v1/api-tokens/${body.token_id}`, { token: account.token })).status).toBe(204);
    const [stored] = (await db.execute(sql`select revoked_at from api_token where token_id = ${body.token_id}`)).rows as { revoked_at: string }[];
    const again = await request("DELETE", `/api/v1/api-tokens/${body.token_id}`, { token: account.token });
    expect(again.status).toBe(404);
    expect(again.headers.get("content-type")).toBe("application/problem+json");
    // The first revocation's time stands.
    expect((await db.execute(sql`select revoked_at from api_token where token_id = ${body.token_id}`)).rows).toEqual([stored]);
    const events = await db.execute(sql`select count(*)::int as n from event_log where entity_type = 'api_token' and entity_id = ${body.token_id} and action = 'api_token.revoke'`);
    expect(events.rows).toEqual([{ n: 1 }]);
  });

  it("cannot be created already expired (422 naming expires_at)", async () => {
    const account = await registerClient();
    const response = await request("POST", "/api/v1/api-tokens", {
      token: account.token,
      body: { name: "stale", expires_at: new Date(Date.now() - 60_000).toISOString() },
    });
    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual([{ path: "body.expires_at", message: "must be in the future" }]);
    const tokens = await db.execute(sql`select count(*)::int as n from api_token where user_id = ${account.user_id}`);
    expect(tokens.rows).toEqual([{ n: 0 }]);
  });

  it("is refused after its expiry", async () => {
    const account = await registerClient();
    const { body } = await request("POST", "/api/v1/api-tokens", {
      token: account.token,
      body: { name: "expiring", expires_at: new Date(Date.now() + 60_000).toISOString() },
    });
    await db.execute(sql`update api_token set expires_at = created_at + interval '1 millisecond' where token_id = ${body.token_id}`);
    expect((await request("GET", "/api/v1/auth/me", { token: body.token })).status).toBe(401);
  });

  it("cannot be listed or revoked by another user (404)", async () => {
    const owner = await registerClient();
    const stranger = await registerClient();
    const { body } = await request("POST", "/api/v1/api-tokens", { token: owner.token, body: { name: "mine" } });
    expect((await request("GET", "/api/v1/api-tokens", { token: stranger.token })).body.data).toEqual([]);
    expect((await request("DELETE", `/api/v1/api-tokens/${body.token_id}`, { token: stranger.token })).status).toBe(404);
  });
});
