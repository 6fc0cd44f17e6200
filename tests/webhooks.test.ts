/**
 * Webhooks (README "Webhooks"): the endpoints API, and deliveries from the event log to a
 * real HTTP receiver (tests/setup/webhook-receiver.ts) — every committed event of the
 * organization at least once, in event_id order, signed per Standard Webhooks; nothing
 * rolled back, nothing from another organization; retries with back-off, give-up and
 * auto-disable, redelivery.
 */
import { createExecutionContext, createMessageBatch, createScheduledController, env, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { checkDestination } from "../src/features/webhooks/webhook-destinations.ts";
import { deliverWebhook, type DeliveryDeps } from "../src/features/webhooks/webhook-delivery.ts";
import { dispatchQueries } from "../src/features/webhooks/webhook-dispatch.ts";
import worker from "../src/background.ts";
import api from "../src/index.ts";
import { createLogger } from "../src/lib/logger.ts";
import { WEBHOOK_CRON } from "../src/scheduled.ts";
import { sql, testDb } from "./helpers/db.ts";
import { createUser, registerClient, unique, type Account } from "./helpers/factories.ts";
import { request, type ApiResponse } from "./helpers/http.ts";
import { dispatchSettled, receiver, verifyStandardWebhook, type Received } from "./helpers/webhooks.ts";

type Webhook = { webhook_id: number; org_id: number; url: string; events: string[]; active: boolean; secret: string; disabled_reason: string | null };
type Delivery = { delivery_id: number; event_id: number; status: string; attempts: number; response_status: number | null; error: string | null };

const deps = (): DeliveryDeps => ({ db: testDb(), logger: createLogger({ test: "webhooks" }, "error"), secretKey: env.WEBHOOK_SECRET_KEY, timeoutMs: 1000 });

function expectStatus(response: ApiResponse<any>, status: number) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
}

async function createWebhook(account: Account, body: Record<string, unknown>): Promise<Webhook> {
  const response = await request<Webhook>("POST", "/api/v1/webhooks", { token: account.token, body });
  expectStatus(response, 201);
  return response.body;
}

async function createProject(account: Account) {
  const response = await request("POST", "/api/v1/projects", { token: account.token, body: { name: unique("Hooked") } });
  expectStatus(response, 201);
  return response.body.project_id as number;
}

async function deliveries(account: Account, webhookId: number): Promise<Delivery[]> {
  const response = await request<{ data: Delivery[] }>("GET", `/api/v1/webhooks/${webhookId}/deliveries?limit=200`, { token: account.token });
  expectStatus(response, 200);
  return response.body.data;
}

/** The events a webhook of `orgId` should get after `afterEventId`, in order. */
async function orgEventIds(orgId: number, afterEventId: number, actions?: string[]): Promise<number[]> {
  const result = await testDb().execute(sql`select event_id from event_log where org_id = ${orgId} and event_id > ${afterEventId}
    ${actions ? sql`and action in (${sql.join(actions.map((action) => sql`${action}`), sql`, `)})` : sql``} order by event_id`);
  return result.rows.map((row) => Number((row as { event_id: number }).event_id));
}

async function cursorOf(webhookId: number): Promise<number> {
  const result = await testDb().execute(sql`select event_id from event_log where action = 'webhook.create' and entity_id = ${webhookId}`);
  return Number((result.rows[0] as { event_id: number }).event_id) - 1;
}

/** Makes the webhook's head delivery due now, as if its back-off had passed. */
async function backOffPassed(webhookId: number) {
  await testDb().execute(sql`update webhook_delivery set next_attempt_at = now() where webhook_id = ${webhookId} and status = 'pending'`);
}

let admin: Account;
let client: Account;
let member: Account;
let other: Account;

beforeAll(async () => {
  [admin, client, other] = await Promise.all([createUser("admin"), registerClient(), registerClient()]);
  member = await createUser("client_member", client.org_id);
});

describe("webhooks API", () => {
  it("creates a webhook in one round trip, shows its whsec_ secret once, and audits it", async () => {
    const hook = receiver(unique("api"));
    const response = await request<Webhook>("POST", "/api/v1/webhooks", { token: client.token, body: { url: hook.url, events: ["project.create", "export_log"] } });
    expectStatus(response, 201);
    expect(response.roundTrips).toBe(1);
    expect(response.headers.get("etag")).toBeTruthy();
    expect(response.body).toMatchObject({ org_id: client.org_id, url: hook.url, events: ["project.create", "export_log"], active: true });
    expect(response.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(atob(response.body.secret.slice(6)).length).toBe(24);
    const id = response.body.webhook_id;

    const read = await request("GET", `/api/v1/webhooks/${id}`, { token: client.token });
    expectStatus(read, 200);
    expect(read.roundTrips).toBe(1);
    expect(read.body.secret).toBeUndefined();
    expect(JSON.stringify(read.body)).not.toContain(response.body.secret);
    const stored = await testDb().execute(sql`select secret_encrypted from webhook where webhook_id = ${id}`);
    expect(JSON.stringify(stored.rows)).not.toContain(response.body.secret.slice(6));

    const list = await request("GET", "/api/v1/webhooks", { token: client.token });
    expectStatus(list, 200);
    expect(list.roundTrips).toBe(1);
    expect(list.body.data.map((webhook: Webhook) => webhook.webhook_id)).toContain(id);

    const audit = await testDb().execute(sql`select action, org_id, actor_id, after from event_log where entity_type = 'webhook' and entity_id = ${id}`);
    expect(audit.rows).toEqual([{ action: "webhook.create", org_id: client.org_id, actor_id: client.user_id, after: { url: hook.url, events: ["project.create", "export_log"], active: true } }]);
  });

  it("updates with If-Match and deletes, one round trip each, audited", async () => {
    const created = await request<Webhook>("POST", "/api/v1/webhooks", { token: client.token, body: { url: receiver(unique("patch")).url } });
    const id = created.body.webhook_id;
    const etag = created.headers.get("etag")!;
    const patched = await request("PATCH", `/api/v1/webhooks/${id}`, { token: client.token, body: { events: ["project"], active: false }, headers: { "if-match": etag } });
    expectStatus(patched, 200);
    expect(patched.roundTrips).toBe(1);
    expect(patched.body).toMatchObject({ events: ["project"], active: false });
    const stale = await request("PATCH", `/api/v1/webhooks/${id}`, { token: client.token, body: { active: true }, headers: { "if-match": etag } });
    expectStatus(stale, 412);
    const deleted = await request("DELETE", `/api/v1/webhooks/${id}`, { token: client.token, headers: { "if-match": patched.headers.get("etag")! } });
    expectStatus(deleted, 204);
    expect(deleted.roundTrips).toBe(1);
    expectStatus(await request("GET", `/api/v1/webhooks/${id}`, { token: client.token }), 404);
    const audit = await testDb().execute(sql`select action, before, after from event_log where entity_type = 'webhook' and entity_id = ${id} order by event_id`);
    expect(audit.rows.map((row) => (row as { action: string }).action)).toEqual(["webhook.create", "webhook.update", "webhook.delete"]);
    expect((audit.rows[1] as { after: unknown }).after).toEqual({ events: ["project"], active: false });
  });

  it("rotates the secret: the new one is shown once and signs from then on, the old one no longer verifies", async () => {
    const hook = receiver(unique("rotate"));
    const webhook = await createWebhook(client, { url: hook.url, events: ["project.create"] });
    const rotated = await request<Webhook>("POST", `/api/v1/webhooks/${webhook.webhook_id}/rotate-secret`, { token: client.token });
    expectStatus(rotated, 200);
    expect(rotated.roundTrips).toBe(1);
    expect(rotated.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(rotated.body.secret).not.toBe(webhook.secret);
    const audit = await testDb().execute(sql`select count(*)::int as n from event_log where action = 'webhook.rotate_secret' and entity_id = ${webhook.webhook_id}`);
    expect(audit.rows).toEqual([{ n: 1 }]);
    await createProject(client);
    await dispatchSettled();
    await deliverWebhook(webhook.webhook_id, deps());
    const [entry] = await hook.received();
    expect(await verifyStandardWebhook(rotated.body.secret, entry!.headers, entry!.body)).toBe(true);
    expect(await verifyStandardWebhook(webhook.secret, entry!.headers, entry!.body)).toBe(false);
  });

  it("keeps webhooks inside their organization: members 403, other organizations 404, platform admins everywhere", async () => {
    const hook = await createWebhook(client, { url: receiver(unique("scope")).url });
    expectStatus(await request("GET", `/api/v1/webhooks/${hook.webhook_id}`, { token: member.token }), 403);
    expectStatus(await request("GET", "/api/v1/webhooks", { token: member.token }), 403);
    expectStatus(await request("GET", `/api/v1/webhooks/${hook.webhook_id}`, { token: other.token }), 404);
    expectStatus(await request("PATCH", `/api/v1/webhooks/${hook.webhook_id}`, { token: other.token, body: { active: false } }), 404);
    expectStatus(await request("GET", `/api/v1/webhooks/${hook.webhook_id}/deliveries`, { token: other.token }), 404);
    const otherList = await request("GET", "/api/v1/webhooks", { token: other.token });
    expect(otherList.body.data.map((webhook: Webhook) => webhook.webhook_id)).not.toContain(hook.webhook_id);
    expectStatus(await request("GET", `/api/v1/webhooks/${hook.webhook_id}`, { token: admin.token }), 200);
    expectStatus(await request("POST", "/api/v1/webhooks", { token: client.token, body: { url: receiver("x").url, org_id: other.org_id } }), 403);
    const forOther = await createWebhook(admin, { url: receiver(unique("admin")).url, org_id: other.org_id });
    expect(forOther.org_id).toBe(other.org_id);
  });

  it("refuses bad URLs and event names with 422 naming the field", async () => {
    const bad = await request("POST", "/api/v1/webhooks", { token: client.token, body: { url: "ftp://example.com/x" } });
    expectStatus(bad, 422);
    expect(bad.body.errors).toEqual([{ path: "body.url", message: "must use https" }]);
    const events = await request("POST", "/api/v1/webhooks", { token: client.token, body: { url: receiver("y").url, events: ["Project.Create!"] } });
    expectStatus(events, 422);
    expect(events.body.errors[0].path).toBe("body.events.0");
  });

  it("allows only https to public host names in production", () => {
    const reject = (url: string) => expect(() => checkDestination(url, false), url).toThrow();
    for (const url of [
      "http://hooks.example.com/x",
      "https://127.0.0.1/x",
      "https://2130706433/x",
      "https://0x7f000001/x",
      "https://[::1]/x",
      "https://10.0.0.5/x",
      "https://localhost/x",
      "https://api.localhost/x",
      "https://printer.local/x",
      "https://db.internal/x",
      "https://intranet/x",
      "https://user:pw@hooks.acme.com/x",
    ]) reject(url);
    expect(checkDestination("https://hooks.acme.com/grandscale?a=1", false)).toBe("https://hooks.acme.com/grandscale?a=1");
    expect(checkDestination("http://127.0.0.1:9999/x", true)).toBe("http://127.0.0.1:9999/x");
    try {
      checkDestination("https://localhost/x", false);
    } catch (error) {
      expect((error as { errors: unknown }).errors).toEqual([{ path: "body.url", message: expect.any(String) }]);
    }
  });
});

describe("deliveries", () => {
  it("delivers every committed event of the organization once, in event_id order, signed; nothing rolled back or foreign", async () => {
    const all = receiver(unique("all"));
    const filtered = receiver(unique("filtered"));
    const foreign = receiver(unique("foreign"));
    const allHook = await createWebhook(client, { url: all.url });
    const filteredHook = await createWebhook(client, { url: filtered.url, events: ["project.update", "webhook"] });
    const foreignHook = await createWebhook(other, { url: foreign.url });

    const projectId = await createProject(client);
    await request("PATCH", `/api/v1/projects/${projectId}`, { token: client.token, body: { description: "changed" } });
    await createProject(other);
    // A change that rolls back: its event_log row (and its id) is taken, then the statement fails.
    await expect(testDb().execute(sql`with audited as (
        insert into event_log (org_id, action, entity_type, entity_id, actor_kind) values (${client.org_id}, 'project.update', 'project', ${projectId}, 'system')
        returning event_id
      ) select 1 / (count(*) - 1) from audited`)).rejects.toThrow();
    // A failed request (a name clash) commits nothing either.
    const clash = await request("PATCH", `/api/v1/projects/${projectId}`, { token: client.token, body: { name: "" } });
    expect(clash.status).toBe(422);

    const dispatched = await dispatchSettled();
    expect(dispatched.sent).toEqual(expect.arrayContaining([{ kind: "webhook", webhook_id: allHook.webhook_id }, { kind: "webhook", webhook_id: foreignHook.webhook_id }]));
    for (const hook of [allHook, filteredHook, foreignHook]) expect(await deliverWebhook(hook.webhook_id, deps())).toEqual({ next: "idle" });

    const expected = await orgEventIds(client.org_id, await cursorOf(allHook.webhook_id));
    const got = await all.received();
    const ids = got.map((entry) => JSON.parse(entry.body).data.event_id as number);
    expect(ids).toEqual(expected);
    expect(got.map((entry) => JSON.parse(entry.body).type)).toEqual(["webhook.create", "webhook.create", "project.create", "project.update"]);
    for (const entry of got) {
      expect(await verifyStandardWebhook(allHook.secret, entry.headers, entry.body)).toBe(true);
      expect(await verifyStandardWebhook(filteredHook.secret, entry.headers, entry.body)).toBe(false);
      expect(entry.headers["webhook-id"]).toMatch(/^msg_\d+$/);
      expect(JSON.parse(entry.body).data.org_id).toBe(client.org_id);
    }
    const tampered = { ...got[0]!.headers, "webhook-timestamp": String(Number(got[0]!.headers["webhook-timestamp"]) + 1) };
    expect(await verifyStandardWebhook(allHook.secret, tampered, got[0]!.body)).toBe(false);

    const filteredGot = (await filtered.received()).map((entry) => JSON.parse(entry.body).type);
    expect(filteredGot).toEqual(["webhook.create", "project.update"]);
    const foreignGot = (await foreign.received()).map((entry) => JSON.parse(entry.body));
    expect(foreignGot.map((body) => body.type)).toEqual(["webhook.create", "project.create"]);
    expect(foreignGot.every((body) => body.data.org_id === other.org_id)).toBe(true);

    // Recorded: every delivery succeeded on its first attempt; a second dispatch adds nothing.
    const listed = await request("GET", `/api/v1/webhooks/${allHook.webhook_id}/deliveries?limit=200`, { token: client.token });
    expect(listed.roundTrips).toBe(1);
    const records = await deliveries(client, allHook.webhook_id);
    expect(records.map((record) => record.event_id).sort((a, b) => a - b)).toEqual(expected);
    expect(records.every((record) => record.status === "succeeded" && record.attempts === 1 && record.response_status === 204)).toBe(true);
    await dispatchSettled();
    expect(await deliverWebhook(allHook.webhook_id, deps())).toEqual({ next: "idle" });
    expect((await all.received()).length).toBe(expected.length);
  });

  it("retries with back-off (5 s, 5 min, 30 min …), holding later events back until the failed one succeeds", async () => {
    const hook = receiver(unique("retry"));
    const webhook = await createWebhook(client, { url: hook.url, events: ["project.create"] });
    await createProject(client);
    await createProject(client);
    await dispatchSettled();
    await hook.mode("fail");

    expect(await deliverWebhook(webhook.webhook_id, deps())).toEqual({ next: "later", delaySeconds: 5 });
    let records = await deliveries(client, webhook.webhook_id);
    const head = records.at(-1)!;
    expect(head).toMatchObject({ status: "pending", attempts: 1, response_status: 500, error: "HTTP 500" });
    expect(records[0]).toMatchObject({ status: "pending", attempts: 0 });
    // Not due yet: nothing is sent.
    expect((await deliverWebhook(webhook.webhook_id, deps())).next).toBe("later");
    expect((await hook.received()).length).toBe(1);

    await backOffPassed(webhook.webhook_id);
    expect(await deliverWebhook(webhook.webhook_id, deps())).toEqual({ next: "later", delaySeconds: 300 });
    await hook.mode("timeout");
    await backOffPassed(webhook.webhook_id);
    expect(await deliverWebhook(webhook.webhook_id, deps())).toEqual({ next: "later", delaySeconds: 1800 });
    records = await deliveries(client, webhook.webhook_id);
    expect(records.at(-1)).toMatchObject({ attempts: 3, response_status: null, error: "timed out after 1000 ms" });

    await hook.mode("ok");
    await backOffPassed(webhook.webhook_id);
    expect(await deliverWebhook(webhook.webhook_id, deps())).toEqual({ next: "idle" });
    const received = await hook.received();
    const ids = received.map((entry) => JSON.parse(entry.body).data.event_id as number);
    expect(ids.slice(0, 4)).toEqual([ids[0], ids[0], ids[0], ids[0]]);
    expect(ids[4]).toBeGreaterThan(ids[0]!);
    // The same message id on every attempt, so receivers can deduplicate.
    expect(new Set(received.slice(0, 4).map((entry) => entry.headers["webhook-id"])).size).toBe(1);
    const state = await request("GET", `/api/v1/webhooks/${webhook.webhook_id}`, { token: client.token });
    expect(state.body).toMatchObject({ active: true, consecutive_failures: 0, failing_since: null });
  });

  it("gives up after 24 h and disables an endpoint that failed throughout; reactivated, a redelivery goes out", async () => {
    const hook = receiver(unique("disable"));
    const webhook = await createWebhook(client, { url: hook.url, events: ["project.create"] });
    await createProject(client);
    await dispatchSettled();
    await hook.mode("fail");
    expect((await deliverWebhook(webhook.webhook_id, deps())).next).toBe("later");
    // A day of failures later.
    await testDb().execute(sql`update webhook set consecutive_failures = 9, failing_since = now() - interval '25 hours' where webhook_id = ${webhook.webhook_id}`);
    await testDb().execute(sql`update webhook_delivery set first_attempt_at = now() - interval '25 hours', next_attempt_at = now() where webhook_id = ${webhook.webhook_id}`);
    expect(await deliverWebhook(webhook.webhook_id, deps())).toEqual({ next: "idle" });

    const [record] = await deliveries(client, webhook.webhook_id);
    expect(record).toMatchObject({ status: "failed", attempts: 2 });
    const disabled = await request("GET", `/api/v1/webhooks/${webhook.webhook_id}`, { token: client.token });
    expect(disabled.body).toMatchObject({ active: false, consecutive_failures: 10, disabled_reason: "every delivery attempt failed for 24 hours" });
    const audit = await testDb().execute(sql`select actor_kind, org_id, after from event_log where action = 'webhook.disable' and entity_id = ${webhook.webhook_id}`);
    expect(audit.rows).toEqual([{ actor_kind: "system", org_id: client.org_id, after: { active: false, disabled_reason: "every delivery attempt failed for 24 hours" } }]);

    const refused = await request("POST", `/api/v1/webhook-deliveries/${record!.delivery_id}/redeliver`, { token: client.token });
    expectStatus(refused, 409);
    expectStatus(await request("POST", `/api/v1/webhook-deliveries/${record!.delivery_id}/redeliver`, { token: other.token }), 404);
    expectStatus(await request("POST", `/api/v1/webhook-deliveries/${record!.delivery_id}/redeliver`, { token: member.token }), 403);

    await hook.mode("ok");
    const reactivated = await request("PATCH", `/api/v1/webhooks/${webhook.webhook_id}`, { token: client.token, body: { active: true } });
    expect(reactivated.body).toMatchObject({ active: true, consecutive_failures: 0, failing_since: null, disabled_reason: null });
    const redelivered = await request("POST", `/api/v1/webhook-deliveries/${record!.delivery_id}/redeliver`, { token: client.token });
    expectStatus(redelivered, 202);
    expect(redelivered.roundTrips).toBe(1);
    expect(redelivered.body).toMatchObject({ delivery_id: record!.delivery_id, status: "pending" });
    // The redeliver sent a real message on the webhook queue: its consumer delivers.
    const deadline = Date.now() + 10_000;
    let answered: (number | null)[] = [];
    while (Date.now() < deadline) {
      answered = (await hook.received()).map((entry) => entry.answered);
      if (answered.at(-1) === 204) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(answered).toEqual([500, 500, 204]);
    const [after] = await deliveries(client, webhook.webhook_id);
    expect(after).toMatchObject({ status: "succeeded", attempts: 3, response_status: 204 });
  });

  it("is consumed through the worker's queue handler, which acks", async () => {
    const hook = receiver(unique("queue"));
    const webhook = await createWebhook(client, { url: hook.url });
    await dispatchSettled();
    const batch = createMessageBatch("grandscale-webhook", [{ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: { kind: "webhook", webhook_id: webhook.webhook_id } }]);
    const ctx = createExecutionContext();
    await worker.queue(batch as MessageBatch<unknown>, env);
    await waitOnExecutionContext(ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toHaveLength(1);
    expect((await hook.received()).map((entry) => JSON.parse(entry.body).type)).toEqual(["webhook.create"]);
  });

  it("holds events back until every transaction that was writing event_log when the horizon was noted has ended", async () => {
    const hook = receiver(unique("horizon"));
    const webhook = await createWebhook(client, { url: hook.url });
    await dispatchSettled();
    await deliverWebhook(webhook.webhook_id, deps());
    // A writer still running: one transaction writes an event, is noted as the horizon's
    // writer, and runs the dispatcher while it is still open (the test database is one
    // session, so the writer cannot be another connection).
    const db = testDb();
    const running = await db.batch([
      db.execute(sql`insert into event_log (org_id, action, entity_type, entity_id, actor_kind) values (${client.org_id}, 'project.update', 'project', 0, 'system') returning event_id`),
      db.execute(sql`update webhook_dispatch_state set pending_horizon = pg_sequence_last_value(pg_get_serial_sequence('event_log', 'event_id')::regclass),
        pending_writers = array(select virtualtransaction from pg_locks where pid = pg_backend_pid() and locktype = 'virtualxid')`),
      ...dispatchQueries(db),
    ] as unknown as Parameters<typeof db.batch>[0]);
    const eventId = Number((running[0] as { rows: { event_id: number }[] }).rows[0]!.event_id);
    const held = (running.at(-1) as { rows: { settled_event_id: string }[] }).rows[0]!;
    expect(Number(held.settled_event_id)).toBeLessThan(eventId);
    await deliverWebhook(webhook.webhook_id, deps());
    expect((await hook.received()).map((entry) => JSON.parse(entry.body).type)).toEqual(["webhook.create"]);
    // That transaction has ended: the horizon settles and the event goes out.
    const settled = await dispatchSettled();
    expect(settled.settled_event_id).toBeGreaterThanOrEqual(eventId);
    await deliverWebhook(webhook.webhook_id, deps());
    expect((await hook.received()).map((entry) => JSON.parse(entry.body).data.event_id)).toEqual([(await cursorOf(webhook.webhook_id)) + 1, eventId]);
  });

  it("runs end to end from the cron trigger through the real webhook queue", async () => {
    const hook = receiver(unique("cron"));
    const webhook = await createWebhook(client, { url: hook.url, events: ["project.create"] });
    const projectId = await createProject(client);
    // Two runs: the first notes the horizon, the second settles it.
    for (let run = 0; run < 2; run++) await worker.scheduled(createScheduledController({ cron: WEBHOOK_CRON, scheduledTime: Date.now() }), env);
    const deadline = Date.now() + 10_000;
    let got: Received[] = [];
    while (Date.now() < deadline && got.length === 0) {
      got = await hook.received();
      if (got.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(got.map((entry) => JSON.parse(entry.body).data.entity_id)).toEqual([projectId]);
    expect(await verifyStandardWebhook(webhook.secret, got[0]!.headers, got[0]!.body)).toBe(true);
  });
});

/**
 * The path production takes: a write wakes the dispatcher object (webhook-signal.ts), whose
 * alarm runs the dispatcher and sends the real queue messages. No cron run and no
 * dispatchSettled here. The tests above turn the wake-up off (vitest.config.mts); these
 * requests turn it on through the Worker's own environment.
 */
describe("deliveries woken by the writes themselves", () => {
  const signalling = { ...env, WEBHOOK_DISPATCH_SIGNAL: "true" as const };

  async function write<T = any>(account: Account, method: string, path: string, body: unknown): Promise<{ status: number; body: T }> {
    const ctx = createExecutionContext();
    const response = await api.fetch(
      new Request(`http://api.test/api/v1${path}`, { method, headers: { authorization: `Bearer ${account.token}`, "content-type": "application/json" }, body: JSON.stringify(body) }),
      signalling,
      ctx,
    );
    const answer = { status: response.status, body: (await response.json()) as T };
    // The wake-up is sent after the answer: wait for it to have gone out.
    await waitOnExecutionContext(ctx);
    return answer;
  }

  /** Polls the receiver until it holds `count` deliveries (or 20 s passed: a limit, not a measurement). */
  async function receivedAtLeast(hook: ReturnType<typeof receiver>, count: number): Promise<Received[]> {
    const deadline = Date.now() + 20_000;
    let got = await hook.received();
    while (got.length < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      got = await hook.received();
    }
    return got;
  }

  const eventIdsOf = (got: Received[]) => got.map((entry) => JSON.parse(entry.body).data.event_id as number);

  it("delivers a committed event without any cron run", async () => {
    const owner = await registerClient();
    const hook = receiver(unique("woken"));
    const created = await write<Webhook>(owner, "POST", "/webhooks", { url: hook.url });
    expect(created.status).toBe(201);
    const project = await write(owner, "POST", "/projects", { name: unique("Woken") });
    expect(project.status).toBe(201);

    const expected = await orgEventIds(owner.org_id, await cursorOf(created.body.webhook_id));
    const got = await receivedAtLeast(hook, expected.length);
    expect(eventIdsOf(got)).toEqual(expected);
    expect(got.map((entry) => JSON.parse(entry.body).type)).toEqual(["webhook.create", "project.create"]);
    expect(await verifyStandardWebhook(created.body.secret, got[1]!.headers, got[1]!.body)).toBe(true);
    expect((await deliveries(owner, created.body.webhook_id)).every((record) => record.status === "succeeded" && record.attempts === 1)).toBe(true);
  });

  it("keeps each endpoint's events in event_id order under concurrent writes, nothing rolled back or foreign", async () => {
    const [owner, neighbour] = await Promise.all([registerClient(), registerClient()]);
    const all = receiver(unique("concurrent-all"));
    const updates = receiver(unique("concurrent-updates"));
    const foreign = receiver(unique("concurrent-foreign"));
    const allHook = (await write<Webhook>(owner, "POST", "/webhooks", { url: all.url })).body;
    const updatesHook = (await write<Webhook>(owner, "POST", "/webhooks", { url: updates.url, events: ["project.update"] })).body;
    const foreignHook = (await write<Webhook>(neighbour, "POST", "/webhooks", { url: foreign.url })).body;
    const projectIds = await Promise.all(
      Array.from({ length: 4 }, async (_, index) => (await write(owner, "POST", "/projects", { name: unique(`Concurrent ${index}`) })).body.project_id as number),
    );

    // Writes of both organizations at once, while the dispatcher runs; one change rolls back.
    const rolledBack = expect(testDb().execute(sql`with audited as (
        insert into event_log (org_id, action, entity_type, entity_id, actor_kind) values (${owner.org_id}, 'project.update', 'project', ${projectIds[0]!}, 'system')
        returning event_id
      ) select 1 / (count(*) - 1) from audited`)).rejects.toThrow();
    const writes = await Promise.all([
      ...projectIds.flatMap((projectId, index) => [1, 2, 3].map((round) => write(owner, "PATCH", `/projects/${projectId}`, { description: `round ${round} of ${index}` }))),
      ...Array.from({ length: 6 }, (_, index) => write(neighbour, "POST", "/projects", { name: unique(`Neighbour ${index}`) })),
    ]);
    await rolledBack;
    expect(writes.every((response) => response.status === 200 || response.status === 201)).toBe(true);

    const expectedAll = await orgEventIds(owner.org_id, await cursorOf(allHook.webhook_id));
    const expectedUpdates = await orgEventIds(owner.org_id, await cursorOf(updatesHook.webhook_id), ["project.update"]);
    const expectedForeign = await orgEventIds(neighbour.org_id, await cursorOf(foreignHook.webhook_id));
    expect(expectedUpdates).toHaveLength(12);
    const [gotAll, gotUpdates, gotForeign] = await Promise.all([
      receivedAtLeast(all, expectedAll.length),
      receivedAtLeast(updates, expectedUpdates.length),
      receivedAtLeast(foreign, expectedForeign.length),
    ]);
    // Exactly the committed events, once each, in event_id order.
    expect(eventIdsOf(gotAll)).toEqual(expectedAll);
    expect(eventIdsOf(gotUpdates)).toEqual(expectedUpdates);
    expect(eventIdsOf(gotForeign)).toEqual(expectedForeign);
    expect(gotForeign.every((entry) => JSON.parse(entry.body).data.org_id === neighbour.org_id)).toBe(true);
  });
});
