import { describe, expect, it } from "vitest";
import { sql, testDb } from "./helpers/db.ts";
import { clientAddress, createUser, login, registerClient, registerClientViaApi, TEST_PASSWORD, unique } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

const db = testDb();

describe("POST /auth/register", () => {
  it("creates a client organization and its client_admin, signed in", async () => {
    const email = `${unique("founder")}@client.test`;
    const response = await request("POST", "/api/v1/auth/register", {
      body: { email, password: TEST_PASSWORD, full_name: "Founder", organization_name: unique("Founders Inc") },
      headers: { "cf-connecting-ip": clientAddress() },
    });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      access_token: expect.any(String),
      refresh_token: expect.stringMatching(/^gsr_/),
      token_type: "Bearer",
      expires_in: 900,
    });
    const me = await request("GET", "/api/v1/auth/me", { token: response.body.access_token });
    expect(me.body.user.email).toBe(email);
    expect(me.body.organization.kind).toBe("client");
    expect(me.body.roles).toEqual(["client_admin"]);
    expect(me.body.permissions).toContain("project:create");
  });

  it("refuses a taken email with 409 and writes nothing", async () => {
    const first = await registerClient();
    const organization_name = unique("Second Org");
    const response = await request("POST", "/api/v1/auth/register", {
      body: { email: first.email.toUpperCase(), password: TEST_PASSWORD, full_name: "Copycat", organization_name },
      headers: { "cf-connecting-ip": clientAddress() },
    });
    expect(response.status).toBe(409);
    const orgs = await db.execute(sql`select count(*)::int as n from organization where name = ${organization_name}`);
    expect(orgs.rows).toEqual([{ n: 0 }]);
  });

  it("validates its body with 422 and field paths", async () => {
    const response = await request("POST", "/api/v1/auth/register", {
      body: { email: "not-an-email", password: "short", full_name: "", organization_name: "X" },
    });
    expect(response.status).toBe(422);
    expect(response.body.errors.map((error: { path: string }) => error.path).sort()).toEqual(["body.email", "body.full_name", "body.password"]);
  });
});

describe("POST /auth/login", () => {
  it("signs in and records the login in the audit log", async () => {
    const account = await registerClient();
    const tokens = await login(account.email);
    expect(tokens.refresh_token).toMatch(/^gsr_/);
    const me = await request("GET", "/api/v1/auth/me", { token: tokens.access_token });
    expect(me.body.user).toMatchObject({ user_id: account.user_id, last_login_at: expect.any(String) });
    const events = await db.execute(sql`select action, actor_id, actor_kind, entity_type, entity_id::integer, org_id, after from event_log
      where entity_type = 'user' and entity_id = ${account.user_id} order by event_id`);
    expect(events.rows).toEqual([
      {
        action: "user.login",
        actor_id: account.user_id,
        actor_kind: "user",
        entity_type: "user",
        entity_id: account.user_id,
        org_id: account.org_id,
        after: { password_rehashed: false },
      },
    ]);
  });

  it("answers a wrong password and an unknown email identically", async () => {
    const account = await registerClient();
    const wrongPassword = await request("POST", "/api/v1/auth/login", {
      body: { email: account.email, password: "wrong password entirely" },
      headers: { "cf-connecting-ip": clientAddress() },
    });
    const unknownEmail = await request("POST", "/api/v1/auth/login", {
      body: { email: `${unique("nobody")}@client.test`, password: "wrong password entirely" },
      headers: { "cf-connecting-ip": clientAddress() },
    });
    expect(wrongPassword.status).toBe(401);
    expect(unknownEmail.status).toBe(401);
    const strip = (body: Record<string, unknown>) => ({ ...body, request_id: undefined });
    expect(strip(wrongPassword.body)).toEqual(strip(unknownEmail.body));
  });

  // The limiter counts in fixed windows of its period, so a burst may straddle a window
  // boundary: at most 2 × 10 attempts pass before a refusal, and never fewer than 10.
  async function attemptsUntilThrottled(attempt: () => Promise<{ status: number; headers: Headers }>) {
    for (let count = 1; count <= 21; count++) {
      const response = await attempt();
      if (response.status === 429) return { count, retryAfter: response.headers.get("retry-after") };
      expect(response.status).toBe(401);
    }
    return { count: Infinity, retryAfter: null };
  }

  it("throttles one account with 429 and Retry-After", async () => {
    const account = await registerClient();
    const throttled = await attemptsUntilThrottled(() =>
      request("POST", "/api/v1/auth/login", {
        body: { email: account.email, password: "wrong password entirely" },
        headers: { "cf-connecting-ip": clientAddress() },
      }),
    );
    expect(throttled.count).toBeGreaterThan(10);
    expect(throttled.count).toBeLessThanOrEqual(21);
    expect(throttled.retryAfter).toBe("60");
  });

  it("throttles one client address across accounts", async () => {
    const address = clientAddress();
    const throttled = await attemptsUntilThrottled(() =>
      request("POST", "/api/v1/auth/login", {
        body: { email: `${unique("spray")}@client.test`, password: "guess" },
        headers: { "cf-connecting-ip": address },
      }),
    );
    expect(throttled.count).toBeGreaterThan(10);
    expect(throttled.count).toBeLessThanOrEqual(21);
  });

  it("never returns or logs the password or its hash", async () => {
    // The real registration and sign-in: their audit rows are what is searched.
    const account = await registerClientViaApi();
    await login(account.email);
    const me = await request("GET", "/api/v1/auth/me", { token: account.token });
    expect(JSON.stringify(me.body)).not.toMatch(/password|scrypt/);
    const events = await db.execute(sql`select action, before, after from event_log
      where actor_id = ${account.user_id} or (entity_type = 'user' and entity_id = ${account.user_id})`);
    expect((events.rows as { action: string }[]).map((event) => event.action).sort()).toEqual(["user.login", "user.register"]);
    expect(JSON.stringify(events.rows)).not.toContain(TEST_PASSWORD);
    expect(JSON.stringify(events.rows)).not.toMatch(/scrypt\$/);
  });
});

describe("POST /auth/refresh", () => {
  it("rotates: the new pair works and the old refresh token does not", async () => {
    const account = await registerClient();
    const first = await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: account.refresh_token } });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(account.refresh_token);
    const me = await request("GET", "/api/v1/auth/me", { token: first.body.access_token });
    expect(me.status).toBe(200);
    const second = await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: first.body.refresh_token } });
    expect(second.status).toBe(200);
    const old = await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: account.refresh_token } });
    expect(old.status).toBe(401);
    expect(old.body.detail).toMatch(/already used/);
  });

  it("revokes the family when one token is refreshed twice at once: no successor survives", async () => {
    const account = await registerClient();
    const both = await Promise.all(
      [1, 2].map(() => request("POST", "/api/v1/auth/refresh", { body: { refresh_token: account.refresh_token } })),
    );
    expect(both.map((response) => response.status).sort()).toEqual([200, 401]);
    const winner = both.find((response) => response.status === 200)!;
    const next = await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: winner.body.refresh_token } });
    expect(next.status).toBe(401);
    const events = await db.execute(sql`select count(*)::int as n from event_log where action = 'refresh_token.reuse_detected' and org_id = ${account.org_id}`);
    expect(events.rows).toEqual([{ n: 1 }]);
  });

  it("treats reuse of a rotated token as theft and revokes the whole family", async () => {
    const account = await registerClient();
    const rotated = await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: account.refresh_token } });
    const reuse = await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: account.refresh_token } });
    expect(reuse.status).toBe(401);
    expect(reuse.body.detail).toMatch(/already used/);
    const successor = await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: rotated.body.refresh_token } });
    expect(successor.status).toBe(401);
    const events = await db.execute(sql`select count(*)::int as n from event_log where action = 'refresh_token.reuse_detected' and org_id = ${account.org_id}`);
    expect(events.rows).toEqual([{ n: 1 }]);
  });

  it("rejects an unknown token with 401", async () => {
    const response = await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: "gsr_not-a-real-token" } });
    expect(response.status).toBe(401);
  });
});

describe("POST /auth/logout", () => {
  it("revokes the session's refresh tokens and answers 204", async () => {
    const account = await registerClient();
    const logout = await request("POST", "/api/v1/auth/logout", { body: { refresh_token: account.refresh_token } });
    expect(logout.status).toBe(204);
    const refresh = await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: account.refresh_token } });
    expect(refresh.status).toBe(401);
  });

  it("revokes the whole family (rotated successors too), audited, and leaves the user's other sessions alone", async () => {
    const account = await registerClient();
    const other = await login(account.email);
    const rotated = await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: account.refresh_token } });
    expect(rotated.status).toBe(200);
    // Logging out with the family's first token ends its current successor as well.
    expect((await request("POST", "/api/v1/auth/logout", { body: { refresh_token: account.refresh_token } })).status).toBe(204);
    const successor = await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: rotated.body.refresh_token } });
    expect(successor.status).toBe(401);
    const events = await db.execute(sql`select actor_kind, org_id, after from event_log
      where entity_type = 'user' and entity_id = ${account.user_id} and action = 'user.logout'`);
    // Two tokens in the family; the first was already rotated, but revocation marks both.
    expect(events.rows).toEqual([{ actor_kind: "system", org_id: account.org_id, after: { sessions_revoked: 2 } }]);
    expect((await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: other.refresh_token } })).status).toBe(200);
  });

  it("answers 204 for an unknown or already revoked token; only the first logout revokes anything", async () => {
    const account = await registerClient();
    expect((await request("POST", "/api/v1/auth/logout", { body: { refresh_token: account.refresh_token } })).status).toBe(204);
    expect((await request("POST", "/api/v1/auth/logout", { body: { refresh_token: account.refresh_token } })).status).toBe(204);
    expect((await request("POST", "/api/v1/auth/logout", { body: { refresh_token: "gsr_not-a-real-token" } })).status).toBe(204);
    const events = await db.execute(sql`select after from event_log
      where entity_type = 'user' and entity_id = ${account.user_id} and action = 'user.logout' order by event_id`);
    expect(events.rows).toEqual([{ after: { sessions_revoked: 1 } }, { after: { sessions_revoked: 0 } }]);
  });
});

describe("GET /auth/me", () => {
  it("returns user, organization, roles and permissions for platform staff", async () => {
    const pm = await createUser("pm");
    const me = await request("GET", "/api/v1/auth/me", { token: pm.token });
    expect(me.status).toBe(200);
    expect(me.body.organization.kind).toBe("platform");
    expect(me.body.roles).toEqual(["pm"]);
    expect(me.body.permissions).toContain("job:assign");
    expect(me.body.permissions).not.toContain("organization:create");
  });

  it("costs one round trip with an access token: authentication itself costs none", async () => {
    const account = await registerClient();
    const me = await request("GET", "/api/v1/auth/me", { token: account.token });
    expect(me.roundTrips).toBe(1);
  });

  it("answers 401 problem+json without credentials", async () => {
    const response = await request("GET", "/api/v1/auth/me");
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });
});
