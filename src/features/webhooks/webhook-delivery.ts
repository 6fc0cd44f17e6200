/**
 * The webhook consumer's work (README "Webhooks"): send one endpoint's pending
 * deliveries, oldest event first, and record every attempt.
 *
 * Order: an endpoint receives its events in event_id order. One sender holds the
 * endpoint's lease at a time, and a failed delivery blocks the ones after it until it
 * succeeds or is given up (at least once: a success whose record is lost is sent again).
 * Retries follow the Standard Webhooks schedule; a delivery whose first attempt is 24 h
 * old is given up after its next failure. An endpoint that has failed every attempt for
 * 24 h (and at least DISABLE_AFTER_FAILURES in a row) is disabled, with an event.
 */
import { sql } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { auditInsert } from "../../lib/audit.ts";
import type { Logger } from "../../lib/logger.ts";
import { decryptSecret, signPayload } from "./webhook-secrets.ts";

/** Seconds to wait after the n-th failed attempt (n = 1 …): 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h. */
export const RETRY_DELAYS_SECONDS = [5, 300, 1800, 7200, 18_000, 36_000];
export const RETRY_WINDOW_HOURS = 24;
export const DISABLE_AFTER_FAILURES = 10;
/** Deliveries one message sends at most; a fuller backlog continues in the next message. */
export const DELIVERIES_PER_MESSAGE = 25;
const LEASE_SECONDS = 300;
const MAX_ERROR_LENGTH = 500;

export function retryDelaySeconds(failedAttempts: number): number {
  return RETRY_DELAYS_SECONDS[Math.min(failedAttempts, RETRY_DELAYS_SECONDS.length) - 1]!;
}

export type DeliveryDeps = { db: Database; logger: Logger; secretKey: string | undefined; timeoutMs: number; now?: () => number };

/** What the consumer does next for the endpoint: nothing, continue at once, or come back after a delay. */
export type DeliveryOutcome = { next: "idle" } | { next: "continue" } | { next: "later"; delaySeconds: number };

type PendingRow = {
  webhook_id: number;
  org_id: number;
  url: string;
  secret_encrypted: string;
  delivery_id: string | number | null;
  due_in_seconds: number | null;
  event: Record<string, unknown> | null;
};

/** The Standard Webhooks payload: `type`, `timestamp`, and the event as `data`. */
export function deliveryBody(event: Record<string, unknown>): string {
  return JSON.stringify({
    type: event.action,
    timestamp: new Date(String(event.created_at)).toISOString(),
    data: {
      event_id: Number(event.event_id),
      org_id: event.org_id,
      project_id: event.project_id,
      actor_id: event.actor_id,
      actor_kind: event.actor_kind,
      action: event.action,
      entity_type: event.entity_type,
      entity_id: Number(event.entity_id),
      before: event.before,
      after: event.after,
      request_id: event.request_id,
      created_at: new Date(String(event.created_at)).toISOString(),
    },
  });
}

export function messageIdOf(deliveryId: number): string {
  return `msg_${deliveryId}`;
}

async function attempt(url: string, secret: string, deliveryId: number, body: string, deps: DeliveryDeps) {
  const timestamp = Math.floor((deps.now?.() ?? Date.now()) / 1000);
  const id = messageIdOf(deliveryId);
  const started = Date.now();
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "GrandScale-Webhooks/1",
        "webhook-id": id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": await signPayload(secret, id, timestamp, body),
      },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
    await response.body?.cancel();
    const ok = response.status >= 200 && response.status < 300;
    return { ok, status: response.status, duration: Date.now() - started, error: ok ? null : `HTTP ${response.status}` };
  } catch (error) {
    const timedOut = error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError");
    const message = timedOut ? `timed out after ${deps.timeoutMs} ms` : error instanceof Error ? error.message : String(error);
    return { ok: false, status: null, duration: Date.now() - started, error: message.slice(0, MAX_ERROR_LENGTH) };
  }
}

const system = { principal: null, requestId: "webhook-delivery" };

/** A successful attempt, recorded with the others when the sender stops (or before a failure). */
type Delivered = { delivery_id: number; response_status: number | null; duration_ms: number; attempted_at: string };

/**
 * Claims the endpoint and sends its due deliveries in event_id order, stopping at the
 * first failure. One round trip to claim, one to record the successes and release the
 * endpoint; a failed attempt adds one (its record and the endpoint's failure state
 * together). Successes are recorded when the sender stops, not one by one: sending an
 * endpoint's backlog costs its HTTP requests, not a query each. A crash in between sends
 * them again (at least once, as a success whose record is lost always was).
 */
export async function deliverWebhook(webhookId: number, deps: DeliveryDeps): Promise<DeliveryOutcome> {
  const claim = await deps.db.execute(sql`with claimed as (
      update webhook set lease_until = now() + make_interval(secs => ${LEASE_SECONDS})
      where webhook_id = ${webhookId} and active and (lease_until is null or lease_until < now())
      returning webhook_id, org_id, url, secret_encrypted
    )
    select c.*, d.delivery_id, greatest(0, extract(epoch from d.next_attempt_at - now()))::float8 as due_in_seconds, to_jsonb(e) as event
    from claimed c
    left join lateral (
      select * from webhook_delivery d where d.webhook_id = c.webhook_id and d.status = 'pending'
      order by d.event_id limit ${DELIVERIES_PER_MESSAGE + 1}
    ) d on true
    left join event_log e on e.event_id = d.event_id
    order by d.event_id`);
  const rows = claim.rows as PendingRow[];
  if (rows.length === 0) return { next: "idle" }; // inactive, gone, or another sender holds it
  const first = rows[0]!;
  const secret = await decryptSecret(first.secret_encrypted, deps.secretKey);
  let outcome: DeliveryOutcome = { next: "idle" };
  let delivered: Delivered[] = [];
  for (const [index, row] of rows.entries()) {
    if (row.delivery_id === null) break;
    if (index === DELIVERIES_PER_MESSAGE) {
      outcome = { next: "continue" };
      break;
    }
    if ((row.due_in_seconds ?? 0) > 0) {
      outcome = { next: "later", delaySeconds: Math.ceil(row.due_in_seconds!) };
      break;
    }
    const deliveryId = Number(row.delivery_id);
    const attemptedAt = new Date().toISOString();
    // An event missing from the log (it cannot be: the log is append-only) is given up on rather than blocking the endpoint.
    const result = row.event
      ? await attempt(first.url, secret, deliveryId, deliveryBody(row.event), deps)
      : { ok: false, status: null, duration: 0, error: "event no longer in the log" };
    if (result.ok) {
      delivered.push({ delivery_id: deliveryId, response_status: result.status, duration_ms: result.duration, attempted_at: attemptedAt });
      continue;
    }
    // The successes before the failure first: they reset the failure count the failure then raises.
    if (delivered.length > 0) await recordSuccesses(deps.db, webhookId, delivered, false);
    delivered = [];
    const recorded = await recordAttempt(deps.db, webhookId, deliveryId, result, row.event === null);
    if (recorded.status === "failed" && recorded.active) continue;
    if (!recorded.active) deps.logger.warn("webhook disabled after sustained failure", { webhook_id: webhookId });
    outcome = recorded.active ? { next: "later", delaySeconds: recorded.delay } : { next: "idle" };
    break;
  }
  const moreDue = await recordSuccesses(deps.db, webhookId, delivered, true);
  return outcome.next === "idle" && moreDue ? { next: "continue" } : outcome;
}

/**
 * Records successful attempts (the endpoint's failure streak ends with them) and, with
 * `release`, lets go of the endpoint. Deliveries the dispatcher added while the lease was
 * held had their message dropped by a sender that found the endpoint taken: the answer
 * says whether any is due, and the caller goes on.
 */
async function recordSuccesses(db: Database, webhookId: number, delivered: Delivered[], release: boolean): Promise<boolean> {
  const result = await db.execute(sql`with delivered as (
      update webhook_delivery d set status = 'succeeded', attempts = d.attempts + 1, first_attempt_at = coalesce(d.first_attempt_at, v.attempted_at),
        last_attempt_at = v.attempted_at, response_status = v.response_status, duration_ms = v.duration_ms, error = null, updated_at = now()
      from jsonb_to_recordset(${JSON.stringify(delivered)}::jsonb) as v(delivery_id bigint, response_status integer, duration_ms integer, attempted_at timestamptz)
      where d.delivery_id = v.delivery_id and d.webhook_id = ${webhookId}
      returning d.delivery_id
    )
    update webhook w set
      consecutive_failures = case when exists (select 1 from delivered) then 0 else w.consecutive_failures end,
      failing_since = case when exists (select 1 from delivered) then null else w.failing_since end,
      lease_until = ${release ? sql`null` : sql`w.lease_until`}
    where w.webhook_id = ${webhookId}
    returning w.active and exists (select 1 from webhook_delivery d where d.webhook_id = ${webhookId} and d.status = 'pending'
      and d.next_attempt_at <= now() and d.delivery_id not in (select delivery_id from delivered)) as more_due`);
  return (result.rows[0] as { more_due: boolean } | undefined)?.more_due ?? false;
}

/** A failed attempt: the delivery's next try (or its giving up) and the endpoint's failure streak (or its disabling), one statement. */
async function recordAttempt(
  db: Database,
  webhookId: number,
  deliveryId: number,
  result: { status: number | null; duration: number; error: string | null },
  giveUp: boolean,
): Promise<{ status: string; active: boolean; delay: number }> {
  const response = await db.execute(sql`with failed as (
      update webhook_delivery d set attempts = d.attempts + 1, first_attempt_at = coalesce(d.first_attempt_at, now()),
        last_attempt_at = now(), response_status = ${result.status}, duration_ms = ${result.duration}, error = ${result.error}, updated_at = now(),
        status = case when ${giveUp} or coalesce(d.first_attempt_at, now()) <= now() - make_interval(hours => ${RETRY_WINDOW_HOURS})
          then 'failed' else 'pending' end,
        next_attempt_at = now() + make_interval(secs => (${sql.raw(`array[${RETRY_DELAYS_SECONDS.join(",")}]`)})[least(d.attempts + 1, ${RETRY_DELAYS_SECONDS.length})])
      where d.delivery_id = ${deliveryId}
      returning d.status, d.attempts
    ), endpoint as (
      update webhook w set consecutive_failures = w.consecutive_failures + 1, failing_since = coalesce(w.failing_since, now()),
        active = not (w.consecutive_failures + 1 >= ${DISABLE_AFTER_FAILURES}
          and coalesce(w.failing_since, now()) <= now() - make_interval(hours => ${RETRY_WINDOW_HOURS})),
        disabled_reason = case when w.consecutive_failures + 1 >= ${DISABLE_AFTER_FAILURES}
          and coalesce(w.failing_since, now()) <= now() - make_interval(hours => ${RETRY_WINDOW_HOURS})
          then 'every delivery attempt failed for ' || ${RETRY_WINDOW_HOURS} || ' hours' else w.disabled_reason end
      where w.webhook_id = ${webhookId} and w.active
      returning w.webhook_id, w.org_id, w.active, w.disabled_reason
    ), audited as (
      ${auditInsert(system, {
        action: "webhook.disable",
        entity_type: "webhook",
        entity_id: sql`endpoint.webhook_id`,
        org_id: sql`endpoint.org_id`,
        before: sql`jsonb_build_object('active', true)`,
        after: sql`jsonb_build_object('active', false, 'disabled_reason', endpoint.disabled_reason)`,
      }, sql`endpoint where not endpoint.active`)}
    )
    select failed.status, failed.attempts, coalesce((select active from endpoint), false) as active from failed`);
  const row = response.rows[0] as { status: string; attempts: number; active: boolean } | undefined;
  if (!row) return { status: "failed", active: true, delay: 0 };
  return { status: row.status, active: row.active, delay: retryDelaySeconds(row.attempts) };
}
