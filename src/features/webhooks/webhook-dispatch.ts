/**
 * The webhook outbox (README "Webhooks"): events reach endpoints from event_log, never
 * from the mutations themselves, so an event is delivered if and only if its change
 * committed.
 *
 * The one subtlety is ids that are taken but not yet visible: event_id comes from a
 * sequence, and a transaction may commit after one holding a larger id. A cursor that
 * jumped past the smaller id would miss that event. So the dispatcher only reads events
 * up to a *settled* id. Each run notes the horizon (the sequence's last value) and, read
 * after it, the transactions writing event_log at that moment (their virtual transaction
 * ids, from pg_locks). A writer locks event_log before it takes an id, so any transaction
 * holding an id up to the horizon is on that list unless it had already ended. A later
 * run that finds none of them still running settles the horizon, and its next statement
 * (a newer snapshot) sees every one of those events that committed.
 *
 * Only event_log's writers count: a long transaction elsewhere (another table, another
 * database on the server) holds nothing back, and nothing rests on timing. Runs never
 * overlap (an advisory lock, taken first), so each starts from the previous one's
 * committed state, and runs close together only settle sooner.
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
 * One dispatcher run, one round trip (a transaction: the run lock; the horizon settled and
 * noted; then, in a snapshot taken after that, the dispatch): settles the horizon, turns
 * every settled event after each endpoint's cursor that the endpoint wants into a pending
 * delivery, advances the cursors, and names the endpoints with deliveries due (new ones, and older ones whose
 * queue message may have been lost), which get a queue message.
 * An inactive endpoint's cursor moves on too: it misses what happens while it is off.
 */
export async function dispatchWebhookEvents(deps: { db: Database; queue: Queue; logger: Logger }): Promise<DispatchRun> {
  const results = (await deps.db.batch(dispatchQueries(deps.db) as unknown as Parameters<Database["batch"]>[0])) as unknown as { rows: unknown[] }[];
  const row = results.at(-1)!.rows[0] as { settled_event_id: number | string; pending_horizon: number | string; webhook_ids: number[] };
  const webhookIds = row.webhook_ids.map(Number);
  await sendWebhookMessages(deps.queue, webhookIds);
  if (webhookIds.length > 0) deps.logger.info("webhook deliveries queued", { webhooks: webhookIds.length, settled_event_id: Number(row.settled_event_id) });
  return { settled_event_id: Number(row.settled_event_id), pending_horizon: Number(row.pending_horizon), webhook_ids: webhookIds };
}

/** A run's statements, in the order one transaction must run them (exported for the test of a writer still running). */
export function dispatchQueries(db: Database) {
  // Two overlapping runs could each see a snapshot older than the other's commit (and a
  // stale cursor): serialized, a run always starts from the previous one's committed state.
  const lock = db.execute(sql`select pg_advisory_xact_lock(hashtext('webhook_dispatch'))`);
  // The horizon first, the writers after it: a writer of an id up to the horizon locked
  // event_log before that id was taken, so it is listed unless it had ended already.
  const settle = db.execute(sql`with old as (
      select settled_event_id, pending_horizon, pending_writers from webhook_dispatch_state where singleton
    ), horizon as materialized (
      select coalesce(pg_sequence_last_value(pg_get_serial_sequence('event_log', 'event_id')::regclass), 0) as value
    ), noted as (
      select h.value as horizon, array(
        select distinct l.virtualtransaction from pg_locks l
        where l.locktype = 'relation' and l.relation = 'event_log'::regclass and l.mode = 'RowExclusiveLock'
          and l.database = (select oid from pg_database where datname = current_database()) and h.value is not null
      ) as writers from horizon h
    ), ended as (
      select not exists (select 1 from pg_locks l where l.virtualtransaction = any(coalesce((select pending_writers from old), '{}'))) as value
    )
    insert into webhook_dispatch_state (singleton, settled_event_id, pending_horizon, pending_writers)
    select true,
      case when ended.value then greatest(coalesce(old.settled_event_id, 0), coalesce(old.pending_horizon, 0)) else old.settled_event_id end,
      case when ended.value then noted.horizon else old.pending_horizon end,
      case when ended.value then noted.writers else old.pending_writers end
    from noted cross join ended left join old on true
    on conflict (singleton) do update set settled_event_id = excluded.settled_event_id,
      pending_horizon = excluded.pending_horizon, pending_writers = excluded.pending_writers, updated_at = now()`);
  const run = db.execute(sql`with state as (
      select settled_event_id, pending_horizon from webhook_dispatch_state where singleton
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
  return [lock, settle, run];
}
