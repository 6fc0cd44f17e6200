/// <reference types="vite/client" />
/**
 * Immediate revocation, for every operation in /openapi.json. A victim signs in (and
 * mints an API token); then the account is deleted, deactivated, given other roles, given
 * a new password, or its organization is deleted. Every operation is then called, with
 * the request the access matrix makes for that role (tests/access/*.policy.ts), using
 * the credentials issued before the change: each answers 401 problem+json after exactly
 * the one round trip whose guard refused it, and the victim writes nothing at all.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { OperationPolicy, World } from "./access/policy.ts";
import { buildWorld } from "./access/world.ts";
import { staffedJob } from "./helpers/annotation.ts";
import { sql, testDb } from "./helpers/db.ts";
import { createUser, login, registerClient, TEST_PASSWORD, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

const db = testDb();
const METHODS = ["get", "post", "put", "patch", "delete"] as const;

const policyModules = import.meta.glob<{ policies: OperationPolicy[] }>("./access/*.policy.ts", { eager: true });
const policies = new Map(Object.values(policyModules).flatMap((module) => module.policies).map((policy) => [policy.operationId, policy]));

type Victim = Account & { api_token: string };
type Scenario = {
  change: string;
  /** Whose requests of the access matrix the victim makes. */
  role: "admin" | "client_admin";
  revoke: (victim: Victim, world: World) => Promise<void>;
  /** Whether the change also ends the victim's API tokens (a role change does not: they read the roles afresh). */
  endsApiTokens: boolean;
};

async function expectStatus(response: { status: number; body: unknown }, status: number) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
}

const SCENARIOS: Scenario[] = [
  {
    change: "the user is deleted",
    role: "admin",
    endsApiTokens: true,
    revoke: async (victim, world) => expectStatus(await request("DELETE", `/api/v1/users/${victim.user_id}`, { token: world.accounts.admin.token }), 204),
  },
  {
    change: "the user is deactivated",
    role: "admin",
    endsApiTokens: true,
    revoke: async (victim, world) =>
      expectStatus(await request("PATCH", `/api/v1/users/${victim.user_id}`, { token: world.accounts.admin.token, body: { is_active: false } }), 200),
  },
  {
    change: "the user's roles change",
    role: "admin",
    endsApiTokens: false,
    revoke: async (victim, world) =>
      expectStatus(await request("PUT", `/api/v1/users/${victim.user_id}/roles`, { token: world.accounts.admin.token, body: { roles: ["pm"] } }), 200),
  },
  {
    change: "the user's password changes",
    role: "admin",
    endsApiTokens: true,
    revoke: async (victim, world) =>
      expectStatus(
        await request("PATCH", `/api/v1/users/${victim.user_id}`, { token: world.accounts.admin.token, body: { password: `${TEST_PASSWORD} 2` } }),
        200,
      ),
  },
  {
    change: "the user's organization is deleted",
    role: "client_admin",
    endsApiTokens: true,
    revoke: async (victim, world) => expectStatus(await request("DELETE", `/api/v1/organizations/${victim.org_id}`, { token: world.accounts.admin.token }), 204),
  },
];

async function newVictim(role: Scenario["role"]): Promise<Victim> {
  const account = role === "admin" ? await createUser("admin") : await registerClient();
  const minted = await request("POST", "/api/v1/api-tokens", { token: account.token, body: { name: "victim's script" } });
  expect(minted.status).toBe(201);
  return { ...account, api_token: minted.body.token };
}

async function operationIds(): Promise<string[]> {
  const { body } = await request("GET", "/openapi.json");
  return Object.values(body.paths as Record<string, Record<string, { operationId: string; security?: unknown[] }>>).flatMap((item) =>
    METHODS.filter((method) => item[method] && (item[method]!.security ?? []).length > 0).map((method) => item[method]!.operationId),
  );
}

async function eventsBy(userId: number) {
  const result = await db.execute(sql`select action from event_log where actor_id = ${userId} order by event_id`);
  return (result.rows as { action: string }[]).map((row) => row.action);
}

/** Every secured operation with `bearer`: what differs from a 401 after at most one round trip. */
async function runEverything(world: World, role: Scenario["role"], bearer: string, ids: string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const operationId of ids) {
    const policy = policies.get(operationId);
    if (!policy) {
      problems.push(`${operationId}: no access-matrix policy to build its request from`);
      continue;
    }
    const spec = await policy.request(world, role);
    const response = await request(spec.method, spec.path, { body: spec.body, headers: { ...spec.headers, authorization: `Bearer ${bearer}` } });
    const problemJson = response.headers.get("content-type") === "application/problem+json";
    if (response.status !== 401 || !problemJson || response.roundTrips !== 1) {
      problems.push(`${operationId} (${spec.method} ${spec.path}): ${response.status}, ${response.roundTrips} round trips — ${JSON.stringify(response.body).slice(0, 160)}`);
    }
  }
  return problems;
}

describe("revocation takes effect on the next request", () => {
  let world: World;
  let ids: string[];

  beforeAll(async () => {
    [world, ids] = await Promise.all([buildWorld(), operationIds()]);
  }, 120_000);

  for (const scenario of SCENARIOS) {
    it(`refuses every operation (401, one round trip, nothing written) once ${scenario.change}`, async () => {
      const victim = await newVictim(scenario.role);
      const before = await eventsBy(victim.user_id);
      await scenario.revoke(victim, world);

      const withAccessToken = await runEverything(world, scenario.role, victim.token, ids);
      expect(withAccessToken, `${withAccessToken.length} operations served a revoked access token:\n${withAccessToken.join("\n")}`).toEqual([]);
      if (scenario.endsApiTokens) {
        const withApiToken = await runEverything(world, scenario.role, victim.api_token, ids);
        expect(withApiToken, `${withApiToken.length} operations served a revoked API token:\n${withApiToken.join("\n")}`).toEqual([]);
      }
      expect(await eventsBy(victim.user_id)).toEqual(before);

      const refreshed = await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: victim.refresh_token } });
      expect(refreshed.status).toBe(401);
    }, 120_000);
  }
});

describe("the removed user's own way back", () => {
  it("is closed: a deleted user can neither mint a token, restore themselves nor sign in", async () => {
    const admin = await registerClient();
    const created = await request("POST", "/api/v1/users", {
      token: admin.token,
      body: { email: `${crypto.randomUUID().slice(0, 8)}@client.test`, full_name: "B", password: TEST_PASSWORD, roles: ["client_admin"] },
    });
    expect(created.status).toBe(201);
    const b = await login(created.body.email);
    expect((await request("DELETE", `/api/v1/users/${created.body.user_id}`, { token: admin.token })).status).toBe(204);

    expect((await request("POST", "/api/v1/api-tokens", { token: b.access_token, body: { name: "escape" } })).status).toBe(401);
    expect((await request("POST", `/api/v1/users/${created.body.user_id}/restore`, { token: b.access_token })).status).toBe(401);
    const signIn = await request("POST", "/api/v1/auth/login", { body: { email: created.body.email, password: TEST_PASSWORD }, headers: { "cf-connecting-ip": "10.9.9.9" } });
    expect(signIn.status).toBe(401);
  });

  it("is closed to a deactivated user re-activating themselves with the token they held", async () => {
    const admin = await registerClient();
    const created = await request("POST", "/api/v1/users", {
      token: admin.token,
      body: { email: `${crypto.randomUUID().slice(0, 8)}@client.test`, full_name: "B", password: TEST_PASSWORD, roles: ["client_admin"] },
    });
    const b = await login(created.body.email);
    expect((await request("PATCH", `/api/v1/users/${created.body.user_id}`, { token: admin.token, body: { is_active: false } })).status).toBe(200);
    const again = await request("PATCH", `/api/v1/users/${created.body.user_id}`, { token: b.access_token, body: { is_active: true } });
    expect(again.status).toBe(401);
    const row = await db.execute(sql`select is_active from "user" where user_id = ${created.body.user_id}`);
    expect(row.rows[0]).toEqual({ is_active: false });
  });

  it("answers 403 to anyone restoring or re-activating their own account, with a live token", async () => {
    const admin = await registerClient();
    const restore = await request("POST", `/api/v1/users/${admin.user_id}/restore`, { token: admin.token });
    expect(restore.status).toBe(403);
    expect(restore.body.detail).toMatch(/your own account/);
    const reactivate = await request("PATCH", `/api/v1/users/${admin.user_id}`, { token: admin.token, body: { is_active: true } });
    expect(reactivate.status).toBe(403);
    // Refused from memory, yet only after the guard confirmed the token still stands.
    expect(reactivate.roundTrips).toBe(1);
  });

  it("stops a demoted platform admin from creating an admin with the token they held", async () => {
    const [boss, demoted] = await Promise.all([createUser("admin"), createUser("admin")]);
    expect((await request("PUT", `/api/v1/users/${demoted.user_id}/roles`, { token: boss.token, body: { roles: ["annotator"] } })).status).toBe(200);
    const attempt = await request("POST", "/api/v1/users", {
      token: demoted.token,
      body: { email: `${crypto.randomUUID().slice(0, 8)}@example.test`, full_name: "New Admin", password: TEST_PASSWORD, roles: ["admin"] },
    });
    expect(attempt.status).toBe(401);
    const fresh = await login(demoted.email);
    const me = await request("GET", "/api/v1/auth/me", { token: fresh.access_token });
    expect(me.body.roles).toEqual(["annotator"]);
  });

  it("does not revive old tokens when a deleted user or organization is restored", async () => {
    const [boss, victim] = await Promise.all([createUser("admin"), registerClient()]);
    expect((await request("DELETE", `/api/v1/organizations/${victim.org_id}`, { token: boss.token })).status).toBe(204);
    expect((await request("POST", `/api/v1/organizations/${victim.org_id}/restore`, { token: boss.token })).status).toBe(200);
    expect((await request("GET", "/api/v1/auth/me", { token: victim.token })).status).toBe(401);
    expect((await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: victim.refresh_token } })).status).toBe(401);
    const again = await login(victim.email);
    expect((await request("GET", "/api/v1/auth/me", { token: again.access_token })).status).toBe(200);
  });
});

describe("a revoked caller behind the job's lock", () => {
  // A save takes the job's row lock in its first statement, beside the credential guard
  // (src/db/credential-guard.ts `selectGuarded`): the guard must run before the lock, so
  // that a revoked caller is refused at once instead of queueing behind the job's writers.
  // Needs a server: the embedded PGlite runs one transaction at a time, so there the
  // holder below would keep every other request waiting whatever the order.
  it("is refused (401) while another transaction holds the lock, without waiting for it", async (context) => {
    const { version } = (await db.execute(sql`select version()`)).rows[0] as { version: string };
    if (version.includes("PGlite")) return context.skip();
    const { job, annotator } = await staffedJob();
    await db.execute(sql`update "user" set credentials_version = credentials_version + 1 where user_id = ${annotator.user_id}`);
    const marker = `lock holder ${job.job_id}`;
    const holder = db.batch([
      db.execute(sql`select job_id from annotation_job where job_id = ${job.job_id} for update`),
      db.execute(sql.raw(`select pg_sleep(3) /* ${marker} */`)),
    ]).then(() => "holder");
    for (let holding = false, polls = 0; !holding; polls++) {
      expect(polls, "the lock holder never started sleeping").toBeLessThan(200);
      const sleeping = await db.execute(sql`select count(*)::int as n from pg_stat_activity where query like ${`%${marker}%`} and wait_event = 'PgSleep'`);
      holding = (sleeping.rows[0] as { n: number }).n > 0;
    }
    const save = request("PUT", `/api/v1/annotation-jobs/${job.job_id}/items/0/annotation`, { token: annotator.token, body: { data: { label: "x" } } });
    const first = await Promise.race([holder, save.then(() => "save")]);
    expect(first).toBe("save");
    expect((await save).status).toBe(401);
    await holder;
  });
});
