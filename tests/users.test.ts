import { beforeAll, describe, expect, it } from "vitest";
import { sql, testDb } from "./helpers/db.ts";
import { clientAddress, createUser, login, platformOrgId, registerClient, TEST_PASSWORD, unique, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

const db = testDb();
const NEW_PASSWORD = "a brand new passphrase";

let admin: Account;

beforeAll(async () => {
  admin = await createUser("admin");
});

function newUserBody(overrides: Record<string, unknown> = {}) {
  return { email: `${unique("person")}@client.test`, full_name: "New Person", password: TEST_PASSWORD, ...overrides };
}

async function createClientUser(client: Account, overrides: Record<string, unknown> = {}) {
  const response = await request("POST", "/api/v1/users", { token: client.token, body: newUserBody(overrides) });
  expect(response.status).toBe(201);
  return response;
}

async function eventsFor(userId: number, action: string) {
  const result = await db.execute(sql`select actor_id, org_id, before, after from event_log
    where entity_type = 'user' and entity_id = ${userId} and action = ${action} order by event_id`);
  return result.rows as { actor_id: number; org_id: number; before: Record<string, unknown> | null; after: Record<string, unknown> | null }[];
}

async function storedHash(userId: number) {
  const result = await db.execute(sql`select password_hash from "user" where user_id = ${userId}`);
  return (result.rows[0] as { password_hash: string }).password_hash;
}

function signIn(email: string, password: string) {
  return request("POST", "/api/v1/auth/login", { body: { email, password }, headers: { "cf-connecting-ip": clientAddress() } });
}

describe("POST /users", () => {
  it("lets a client admin add a member to their organization; the password is hashed and never shown", async () => {
    const client = await registerClient();
    const email = `${unique("Member")}@Client.test`;
    const response = await request("POST", "/api/v1/users", { token: client.token, body: newUserBody({ email }) });
    expect(response.status).toBe(201);
    expect(response.roundTrips).toBe(1);
    expect(response.headers.get("etag")).toMatch(/^"/);
    expect(response.body).toEqual({
      user_id: expect.any(Number),
      org_id: client.org_id,
      email: email.toLowerCase(),
      full_name: "New Person",
      is_active: true,
      roles: ["client_member"],
      last_login_at: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
      deleted_at: null,
    });
    const hash = await storedHash(response.body.user_id);
    expect(hash).toMatch(/^scrypt\$/);
    const text = JSON.stringify(response.body);
    expect(text).not.toContain(TEST_PASSWORD);
    expect(text).not.toContain(hash);

    const [event] = await eventsFor(response.body.user_id, "user.create");
    expect(event).toMatchObject({
      actor_id: client.user_id,
      org_id: client.org_id,
      after: { email: email.toLowerCase(), full_name: "New Person", is_active: true, roles: ["client_member"] },
    });
    expect(JSON.stringify(event)).not.toContain(TEST_PASSWORD);
    expect(JSON.stringify(event)).not.toContain("scrypt");

    expect((await signIn(email, TEST_PASSWORD)).status).toBe(200);
  });

  it("lets a platform admin create platform staff with platform roles (none by default)", async () => {
    const staff = await request("POST", "/api/v1/users", { token: admin.token, body: newUserBody({ roles: ["qc", "reviewer"] }) });
    expect(staff.status).toBe(201);
    expect(staff.body).toMatchObject({ org_id: await platformOrgId(), roles: ["qc", "reviewer"] });
    const bare = await request("POST", "/api/v1/users", { token: admin.token, body: newUserBody() });
    expect(bare.body.roles).toEqual([]);
  });

  it("lets a platform admin create a user in a client organization", async () => {
    const client = await registerClient();
    const response = await request("POST", "/api/v1/users", { token: admin.token, body: newUserBody({ org_id: client.org_id, roles: ["client_admin"] }) });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ org_id: client.org_id, roles: ["client_admin"] });
  });

  it("judges roles: unknown is 422 with its path, platform roles are 403 for clients, the wrong kind is 422; nothing is written", async () => {
    const client = await registerClient();
    const unknownEmail = `${unique("unknown")}@client.test`;
    const unknown = await request("POST", "/api/v1/users", {
      token: client.token,
      body: newUserBody({ email: unknownEmail, roles: ["client_member", "overlord"] }),
    });
    expect(unknown.status).toBe(422);
    expect(unknown.roundTrips).toBe(1);
    expect(unknown.body.errors).toEqual([{ path: "body.roles.1", message: "no role is named overlord" }]);

    const platformRole = await request("POST", "/api/v1/users", { token: client.token, body: newUserBody({ roles: ["pm"] }) });
    expect(platformRole.status).toBe(403);

    const wrongKind = await request("POST", "/api/v1/users", { token: admin.token, body: newUserBody({ roles: ["pm", "client_member"] }) });
    expect(wrongKind.status).toBe(422);
    expect(wrongKind.body.errors).toEqual([{ path: "body.roles.1", message: "client_member is a role for client organizations" }]);

    const written = await db.execute(sql`select count(*)::int as n from "user" where email = ${unknownEmail}`);
    expect(written.rows).toEqual([{ n: 0 }]);
  });

  it("validates the body with 422 and field paths", async () => {
    const client = await registerClient();
    const response = await request("POST", "/api/v1/users", {
      token: client.token,
      body: { email: "not-an-email", full_name: "", password: "short", roles: "client_member" },
    });
    expect(response.status).toBe(422);
    expect(response.body.errors.map((error: { path: string }) => error.path).sort()).toEqual(["body.email", "body.full_name", "body.password", "body.roles"]);
  });

  it("refuses a taken email with 409, whatever its case", async () => {
    const client = await registerClient();
    const response = await request("POST", "/api/v1/users", { token: client.token, body: newUserBody({ email: client.email.toUpperCase() }) });
    expect(response.status).toBe(409);
  });

  it("is 404 for another organization and 403 without user:manage", async () => {
    const client = await registerClient();
    const other = await registerClient();
    const crossTenant = await request("POST", "/api/v1/users", { token: other.token, body: newUserBody({ org_id: client.org_id }) });
    expect(crossTenant.status).toBe(404);
    const member = await createUser("client_member", client.org_id);
    expect((await request("POST", "/api/v1/users", { token: member.token, body: newUserBody() })).status).toBe(403);
    const pm = await createUser("pm");
    expect((await request("POST", "/api/v1/users", { token: pm.token, body: newUserBody() })).status).toBe(403);
  });
});

describe("GET /users", () => {
  it("lists a client's own people with filters, sort and cursor, one round trip per page", async () => {
    const client = await registerClient();
    const tag = unique("team");
    await createClientUser(client, { full_name: `${tag} Carol` });
    await createClientUser(client, { full_name: `${tag} Alice` });
    const bob = await createClientUser(client, { full_name: `${tag} Bob` });
    await request("PATCH", `/api/v1/users/${bob.body.user_id}`, { token: client.token, body: { is_active: false } });
    await createUser("client_member", (await registerClient()).org_id);

    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `q=${encodeURIComponent(tag)}&sort=full_name&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const page = await request("GET", `/api/v1/users?${query}`, { token: client.token });
      expect(page.status).toBe(200);
      expect(page.roundTrips).toBe(1);
      names.push(...page.body.data.map((user: { full_name: string }) => user.full_name));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(names).toEqual([`${tag} Alice`, `${tag} Bob`, `${tag} Carol`]);

    const active = await request("GET", `/api/v1/users?q=${encodeURIComponent(tag)}&is_active=false`, { token: client.token });
    expect(active.body.data.map((user: { full_name: string }) => user.full_name)).toEqual([`${tag} Bob`]);
    const admins = await request("GET", "/api/v1/users?role=client_admin", { token: client.token });
    expect(admins.body.data.map((user: { user_id: number }) => user.user_id)).toEqual([client.user_id]);
    const everyone = await request("GET", "/api/v1/users?limit=200", { token: client.token });
    expect(everyone.body.data.every((user: { org_id: number }) => user.org_id === client.org_id)).toBe(true);
    expect(everyone.body.data).toHaveLength(4);
    expect(JSON.stringify(everyone.body)).not.toContain("scrypt");
  });

  it("lets platform admins see any organization's people and, when asked, deleted ones", async () => {
    const client = await registerClient();
    const gone = await createClientUser(client);
    await request("DELETE", `/api/v1/users/${gone.body.user_id}`, { token: client.token });
    const live = await request("GET", `/api/v1/users?org_id=${client.org_id}`, { token: admin.token });
    expect(live.body.data.map((user: { user_id: number }) => user.user_id)).toEqual([client.user_id]);
    const all = await request("GET", `/api/v1/users?org_id=${client.org_id}&include_deleted=true&sort=-created_at`, { token: admin.token });
    expect(all.body.data.map((user: { user_id: number }) => user.user_id)).toEqual([gone.body.user_id, client.user_id]);
    expect((await request("GET", "/api/v1/users?include_deleted=true", { token: client.token })).status).toBe(403);
  });

  it("shows a pm the platform's people only, and refuses members and staff (403)", async () => {
    const pm = await createUser("pm");
    const client = await registerClient();
    const seen = await request("GET", `/api/v1/users?org_id=${client.org_id}`, { token: pm.token });
    expect(seen.body.data).toEqual([]);
    const member = await createUser("client_member", client.org_id);
    expect((await request("GET", "/api/v1/users", { token: member.token })).status).toBe(403);
    const annotator = await createUser("annotator");
    expect((await request("GET", "/api/v1/users", { token: annotator.token })).status).toBe(403);
  });
});

describe("GET /users/{user_id}", () => {
  it("returns the user with an ETag; 404 across organizations; 403 for members", async () => {
    const client = await registerClient();
    const response = await request("GET", `/api/v1/users/${client.user_id}`, { token: client.token });
    expect(response.status).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(response.headers.get("etag")).toMatch(/^"/);
    expect(response.body).toMatchObject({ user_id: client.user_id, roles: ["client_admin"] });
    expect(response.body).not.toHaveProperty("password_hash");

    const other = await registerClient();
    expect((await request("GET", `/api/v1/users/${client.user_id}`, { token: other.token })).status).toBe(404);
    const member = await createUser("client_member", client.org_id);
    expect((await request("GET", `/api/v1/users/${client.user_id}`, { token: member.token })).status).toBe(403);
  });
});

describe("PATCH /users/{user_id}", () => {
  it("updates fields and the password, auditing changed fields only and never the password", async () => {
    const client = await registerClient();
    const created = await createClientUser(client);
    const hashBefore = await storedHash(created.body.user_id);
    const response = await request("PATCH", `/api/v1/users/${created.body.user_id}`, {
      token: client.token,
      body: { full_name: "Renamed Person", password: NEW_PASSWORD },
    });
    expect(response.status).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(response.body).toMatchObject({ full_name: "Renamed Person", email: created.body.email, roles: ["client_member"] });
    expect(JSON.stringify(response.body)).not.toContain(NEW_PASSWORD);

    const [event] = await eventsFor(created.body.user_id, "user.update");
    expect(event).toMatchObject({
      actor_id: client.user_id,
      before: { full_name: "New Person" },
      after: { full_name: "Renamed Person", password_changed: true },
    });
    expect(Object.keys(event!.before!)).toEqual(["full_name"]);
    const eventText = JSON.stringify(event);
    expect(eventText).not.toContain(NEW_PASSWORD);
    expect(eventText).not.toContain(hashBefore);
    expect(eventText).not.toContain(await storedHash(created.body.user_id));

    expect((await signIn(created.body.email, TEST_PASSWORD)).status).toBe(401);
    expect((await signIn(created.body.email, NEW_PASSWORD)).status).toBe(200);
  });

  it("deactivates a user, who can then no longer sign in", async () => {
    const client = await registerClient();
    const created = await createClientUser(client);
    const response = await request("PATCH", `/api/v1/users/${created.body.user_id}`, { token: client.token, body: { is_active: false } });
    expect(response.body.is_active).toBe(false);
    expect((await signIn(created.body.email, TEST_PASSWORD)).status).toBe(401);
  });

  it("honours If-Match (412 when stale) and refuses a taken email (409)", async () => {
    const client = await registerClient();
    const created = await createClientUser(client);
    const etag = created.headers.get("etag")!;
    const first = await request("PATCH", `/api/v1/users/${created.body.user_id}`, {
      token: client.token,
      body: { full_name: "First Edit" },
      headers: { "if-match": etag },
    });
    expect(first.status).toBe(200);
    const stale = await request("PATCH", `/api/v1/users/${created.body.user_id}`, {
      token: client.token,
      body: { full_name: "Second Edit" },
      headers: { "if-match": etag },
    });
    expect(stale.status).toBe(412);
    expect(stale.roundTrips).toBe(1);
    const clash = await request("PATCH", `/api/v1/users/${created.body.user_id}`, { token: client.token, body: { email: client.email } });
    expect(clash.status).toBe(409);
    expect((await request("GET", `/api/v1/users/${created.body.user_id}`, { token: client.token })).body.full_name).toBe("First Edit");
  });

  it("refuses an empty change (422), deactivating yourself (403), members (403) and other organizations (404)", async () => {
    const client = await registerClient();
    const created = await createClientUser(client);
    const empty = await request("PATCH", `/api/v1/users/${created.body.user_id}`, { token: client.token, body: {} });
    expect(empty.status).toBe(422);
    expect((await request("PATCH", `/api/v1/users/${client.user_id}`, { token: client.token, body: { is_active: false } })).status).toBe(403);
    const member = await createUser("client_member", client.org_id);
    expect((await request("PATCH", `/api/v1/users/${created.body.user_id}`, { token: member.token, body: { full_name: "X" } })).status).toBe(403);
    const other = await registerClient();
    expect((await request("PATCH", `/api/v1/users/${created.body.user_id}`, { token: other.token, body: { full_name: "X" } })).status).toBe(404);
  });
});

describe("DELETE and restore /users/{user_id}", () => {
  it("soft-deletes, revoking sessions and API tokens, and restores; each audited in one round trip", async () => {
    const client = await registerClient();
    const created = await createClientUser(client);
    const tokens = await login(created.body.email);
    const apiToken = await request("POST", "/api/v1/api-tokens", { token: tokens.access_token, body: { name: "script" } });
    expect(apiToken.status).toBe(201);

    const deleted = await request("DELETE", `/api/v1/users/${created.body.user_id}`, {
      token: client.token,
      headers: { "if-match": created.headers.get("etag")! },
    });
    expect(deleted.status).toBe(204);
    expect(deleted.roundTrips).toBe(1);
    expect((await request("GET", `/api/v1/users/${created.body.user_id}`, { token: client.token })).status).toBe(404);
    expect((await request("GET", "/api/v1/auth/me", { token: apiToken.body.token })).status).toBe(401);
    expect((await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: tokens.refresh_token } })).status).toBe(401);
    expect((await signIn(created.body.email, TEST_PASSWORD)).status).toBe(401);
    const [deleteEvent] = await eventsFor(created.body.user_id, "user.delete");
    expect(deleteEvent).toMatchObject({ before: { deleted_at: null }, after: { sessions_revoked: 1, api_tokens_revoked: 1 } });

    const restored = await request("POST", `/api/v1/users/${created.body.user_id}/restore`, { token: client.token });
    expect(restored.status).toBe(200);
    expect(restored.roundTrips).toBe(1);
    expect(restored.body).toMatchObject({ deleted_at: null, roles: ["client_member"] });
    expect((await signIn(created.body.email, TEST_PASSWORD)).status).toBe(200);
    expect((await request("GET", "/api/v1/auth/me", { token: apiToken.body.token })).status).toBe(401);
    expect(await eventsFor(created.body.user_id, "user.restore")).toHaveLength(1);
  });

  it("refuses deleting yourself (403), a stale If-Match (412) and restoring a live user (409)", async () => {
    const client = await registerClient();
    expect((await request("DELETE", `/api/v1/users/${client.user_id}`, { token: client.token })).status).toBe(403);
    expect((await request("DELETE", `/api/v1/users/${admin.user_id}`, { token: admin.token })).status).toBe(403);
    const created = await createClientUser(client);
    await request("PATCH", `/api/v1/users/${created.body.user_id}`, { token: client.token, body: { full_name: "Changed" } });
    const stale = await request("DELETE", `/api/v1/users/${created.body.user_id}`, {
      token: client.token,
      headers: { "if-match": created.headers.get("etag")! },
    });
    expect(stale.status).toBe(412);
    expect((await request("POST", `/api/v1/users/${created.body.user_id}/restore`, { token: client.token })).status).toBe(409);
  });

  it("is 404 from another organization and 403 for members", async () => {
    const client = await registerClient();
    const other = await registerClient();
    const created = await createClientUser(client);
    expect((await request("DELETE", `/api/v1/users/${created.body.user_id}`, { token: other.token })).status).toBe(404);
    const member = await createUser("client_member", client.org_id);
    expect((await request("DELETE", `/api/v1/users/${created.body.user_id}`, { token: member.token })).status).toBe(403);
    await request("DELETE", `/api/v1/users/${created.body.user_id}`, { token: client.token });
    expect((await request("POST", `/api/v1/users/${created.body.user_id}/restore`, { token: other.token })).status).toBe(404);
    expect((await request("POST", `/api/v1/users/${created.body.user_id}/restore`, { token: member.token })).status).toBe(403);
  });
});
