/**
 * The webhook outbox (README "Webhooks"): events reach endpoints from event_log, never
 * from the mutations themselves, so an event is delivered if and only if its change
 * committed.
 *
 * The one subtlety is ids that are taken but not yet visible: event_id comes from a
 * sequence, and a transaction may commit after one holding a larger id. A cursor that
 * jumped past the smaller id would miss that event. So the dispatcher only reads events
 * up to a *settled* id: at each run it notes the sequence's last value (the horizon) and
 * the snapshot's xmax; once a later run's snapshot xmin has passed that xmax, every
 * transaction that could hold an id up to the horizon has committed or rolled back, and
 * the horizon is settled. The rule holds whatever the time between runs: runs close
 * together only settle sooner (as soon as the transactions of the first run's time have
 * ended). Runs never overlap (an advisory lock taken before the run's snapshot), so each
 * run's snapshot is later than the previous run's commit.
 *
 * Who runs it: the WebhookDispatcher Durable Object (webhook-dispatcher.ts), woken after
 * writes, a run every few hundred milliseconds while events flow; and the every-minute
 * cron, the safety net for a wake-up that never came.
 */
import { sql } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import type { Logger } from "../../lib/logger.ts";
import type { WebhookMessage } from "../../queues/messages.ts";

/** At most this many new deliveries per endpoint per run; the cursor resumes after them. */
export const DISPATCH_BATCH = 1000;

/** Where a run left the outbox: events up to `settled_event_id` are dispatched; `pending_horizon` waits to settle. */
export type DispatchRun = { settled_event_id: number; pending_horizon: number; webhook_ids: number[] };

/** Asks the consumer to send the due deliveries of these endpoints (duplicates are harmless: one sender holds an endpoint's lease). */
export async function sendWebhookMessages(queue: Queue, webhookIds: number[], delaySeconds = 0): Promise<void> {
  const unique = [...new Set(webhookIds)];
  for (let start = 0; start < unique.length; start += 100) {
    await queue.sendBatch(unique.slice(start, start + 100).map((webhook_id) => ({
      body: { kind: "webhook", webhook_id } satisfies WebhookMessage,
      contentType: "json" as const,
      ...(delaySeconds > 0 ? { delaySeconds } : {}),
    })));
  }
}

/**
 * One dispatcher run, one round trip (a transaction: the run lock, then the statement,
 * whose snapshot is taken once the lock is held): settles the horizon, turns every settled event after
 * each endpoint's cursor that the endpoint wants into a pending delivery, advances the
 * cursors, and names the endpoints with deliveries due (new ones, and older ones whose
 * queue message may have been lost), which get a queue message.
 * An inactive endpoint's cursor moves on too: it misses what happens while it is off.
 */
export async function dispatchWebhookEvents(deps: { db: Database; queue: Queue; logger: Logger }): Promise<DispatchRun> {
  // Two overlapping runs could each see a snapshot older than the other's commit (and a
  // stale cursor): serialized, a run always starts from the previous one's committed state.
  const lock = deps.db.execute(sql`select pg_advisory_xact_lock(hashtext('webhook_dispatch'))`);
  const run = deps.db.execute(sql`with snap as (
      select pg_snapshot_xmin(pg_current_snapshot()) as xmin, pg_snapshot_xmax(pg_current_snapshot()) as xmax,
        coalesce(pg_sequence_last_value(pg_get_serial_sequence('event_log', 'event_id')::regclass), 0) as horizon
    ), old as (
      select settled_event_id, pending_horizon, pending_xmax from webhook_dispatch_state where singleton for update
    ), base as (
      select coalesce((select settled_event_id from old), 0) as settled, coalesce((select pending_horizon from old), 0) as horizon,
        coalesce((select pending_xmax from old), '0')::xid8 as xmax
    ), next as (
      select case when snap.xmin >= base.xmax then greatest(base.settled, base.horizon) else base.settled end as settled,
        case when snap.xmin >= base.xmax then snap.horizon else base.horizon end as horizon,
        case when snap.xmin >= base.xmax then snap.xmax else base.xmax end as xmax
      from snap, base
    ), state as (
      insert into webhook_dispatch_state (singleton, settled_event_id, pending_horizon, pending_xmax)
      select true, next.settled, next.horizon, next.xmax::text from next
      on conflict (singleton) do update set settled_event_id = excluded.settled_event_id,
        pending_horizon = excluded.pending_horizon, pending_xmax = excluded.pending_xmax, updated_at = now()
      returning settled_event_id, pending_horizon
    ), per_webhook as (
      select w.webhook_id, w.active, coalesce(m.ids, '{}') as ids from webhook w
      join organization o on o.org_id = w.org_id
      cross join lateral (
        select array_agg(x.event_id order by x.event_id) as ids from (
          select e.event_id from event_log e
          where e.event_id > w.cursor_event_id and e.event_id <= (select settled_event_id from state)
            and (e.org_id = w.org_id or (e.org_id is null and o.kind = 'platform'))
            and (cardinality(w.events) = 0 or e.action = any(w.events) or e.entity_type = any(w.events))
          order by e.event_id limit ${DISPATCH_BATCH}
        ) x
      ) m
      where w.cursor_event_id < (select settled_event_id from state)
    ), inserted as (
      insert into webhook_delivery (webhook_id, event_id)
      select p.webhook_id, unnest(p.ids) from per_webhook p where p.active
      on conflict (webhook_id, event_id) do nothing
      returning webhook_id
    ), advanced as (
      update webhook w set cursor_event_id = case when cardinality(p.ids) = ${DISPATCH_BATCH} then p.ids[${DISPATCH_BATCH}]
          else (select settled_event_id from state) end
      from per_webhook p where w.webhook_id = p.webhook_id
      returning w.webhook_id
    ), due as (
      select distinct d.webhook_id from webhook_delivery d join webhook w on w.webhook_id = d.webhook_id
      where d.status = 'pending' and d.next_attempt_at <= now() and w.active and (w.lease_until is null or w.lease_until < now())
      union select webhook_id from inserted
    )
    select (select settled_event_id from state) as settled_event_id, (select pending_horizon from state) as pending_horizon,
      (select count(*) from advanced)::int as advanced,
      coalesce((select array_agg(webhook_id) from due), '{}') as webhook_ids`);
  const [, result] = (await deps.db.batch([lock, run] as unknown as Parameters<Database["batch"]>[0])) as unknown as [unknown, { rows: unknown[] }];
  const row = result.rows[0] as { settled_event_id: number | string; pending_horizon: number | string; webhook_ids: number[] };
  const webhookIds = row.webhook_ids.map(Number);
  await sendWebhookMessages(deps.queue, webhookIds);
  if (webhookIds.length > 0) deps.logger.info("webhook deliveries queued", { webhooks: webhookIds.length, settled_event_id: Number(row.settled_event_id) });
  return { settled_event_id: Number(row.settled_event_id), pending_horizon: Number(row.pending_horizon), webhook_ids: webhookIds };
}
