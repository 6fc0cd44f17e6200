/**
 * The live event stream's hub: one Durable Object per organization of the subscribers
 * (`org:<org_id>`; the platform's admins and pms share the platform organization's hub).
 * README "Live event stream" has the whole design; in short:
 *
 * - event_log is the source of truth: an event is on the stream iff it committed. While
 *   the hub has subscribers it polls event_log every POLL_MS, one round trip per tick
 *   whatever the number of subscribers, with `eventVisible` of each subscriber evaluated
 *   in that query (one boolean per subscriber). Writers do nothing for the stream, so no
 *   mutation gains a round trip.
 * - Delivery is in event_id order and never skips a committed event: ids are taken
 *   before commit, so a missing id below a seen one may still commit. The hub holds
 *   back what follows such a gap until every transaction running when the gap was seen
 *   has ended (the poll reads `pg_current_snapshot()`), or GAP_GIVE_UP_MS passed.
 *   `id:` is the event_id, so `Last-Event-ID` is an exact resume point.
 * - A subscriber resuming from before the hub's position catches up from event_log with
 *   its own visibility query, in pages, inside the same per-tick batch.
 * - Progress (`event: progress`): the hub follows the file versions and exports it has
 *   seen events for and reads their progress columns in the same batch while they run.
 * - Every CREDENTIAL_RECHECK_MS each subscriber's credential is checked again with the
 *   request guard (src/db/credential-guard.ts): a revoked one (or, for an API token,
 *   one whose roles changed) ends its stream; the client reconnects and is asked again.
 */
import { sql } from "drizzle-orm";
import { createDatabase, type Database } from "../../db/client.ts";
import { CREDENTIAL_REVOKED, credentialGuard, PRINCIPAL_STALE } from "../../db/credential-guard.ts";
import { loadConfig, type Bindings } from "../../env.ts";
import { eventVisible } from "../../lib/access.ts";
import { createLogger, errorFields, type Logger } from "../../lib/logger.ts";
import { postgresErrorOf } from "../../lib/postgres-errors.ts";
import type { Principal } from "../auth/principal.ts";
import { fromWire, type SubscribeRequest } from "./event-hub-protocol.ts";
import { presentEvent, type EventRow } from "./events.presenters.ts";
import { PROGRESS_SOURCES, type ProgressSource, type ProgressView } from "./event-progress.ts";

export const POLL_MS = 250;
export const KEEP_ALIVE_MS = 15_000;
const GAP_GIVE_UP_MS = 10_000;
const CREDENTIAL_RECHECK_MS = 30_000;
const LIVE_PAGE = 1000;
const CATCH_UP_PAGE = 500;
/** A subscriber whose unread output exceeds this is cut off; it reconnects with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

type Subscriber = {
  principal: Principal;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  /** The last event_id delivered (or the start point); only later ids go out. */
  after: number;
  /** Still reading (after, position] from event_log with its own query. */
  catchingUp: boolean;
  lastWriteAt: number;
  credentialCheckedAt: number;
  credentialRecheckMs: number;
  progressSent: Map<string, string>;
};

type LivePoll = { snap_xmin: string; snap_xmax: string; db_now_ms: number; events: (EventRow & { audience: boolean[] })[] };

const encoder = new TextEncoder();

export function sseFrame(fields: { id?: number; event?: string; data?: unknown; comment?: string; retry?: number }): string {
  let frame = "";
  if (fields.comment !== undefined) frame += `: ${fields.comment}\n`;
  if (fields.retry !== undefined) frame += `retry: ${fields.retry}\n`;
  if (fields.id !== undefined) frame += `id: ${fields.id}\n`;
  if (fields.event !== undefined) frame += `event: ${fields.event}\n`;
  if (fields.data !== undefined) frame += `data: ${JSON.stringify(fields.data)}\n`;
  return `${frame}\n`;
}

const EVENT_COLUMNS = sql`e.event_id, e.org_id, e.project_id, e.actor_id, e.actor_kind, e.action, e.entity_type, e.entity_id,
  e.before, e.after, e.request_id, e.created_at`;

/**
 * The hub itself. The Durable Object class wrangler binds (EventHub, event-hub-object.ts)
 * creates one on its first request, so this module and what it imports are not part of
 * an API isolate's start-up.
 */
export class EventHubCore {
  private readonly subscribers = new Set<Subscriber>();
  private readonly db: Database;
  private readonly logger: Logger;
  /** Every id up to here is delivered or known never to commit; null until the first subscriber. */
  private position: number | null = null;
  /** Events seen above `position`, waiting for the gap below them. */
  private readonly held = new Map<number, EventRow & { audience: boolean[] }>();
  /** Missing ids: the snapshot xmax when first seen missing, and when. */
  private readonly gaps = new Map<number, { xmax: bigint; since: number }>();
  /** Progress sources followed: `${kind}:${id}`. */
  private readonly followed = new Map<string, { source: ProgressSource; id: number }>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private ticking = false;
  private epoch = 0;

  constructor(env: Bindings) {
    const config = loadConfig(env as unknown as Record<string, unknown>);
    this.db = createDatabase(config);
    this.logger = createLogger({ component: "event-hub" }, config.LOG_LEVEL);
  }

  async fetch(request: Request): Promise<Response> {
    const { principal, after, credentialRecheckMs } = (await request.json()) as SubscribeRequest;
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>({}, new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }));
    const now = Date.now();
    const subscriber: Subscriber = {
      principal: fromWire(principal),
      writer: writable.getWriter(),
      after,
      // Joining a running hub: first read (after, position] with its own query. Done even
      // when after >= position, as a tick may be under way whose audience lacks it.
      catchingUp: this.position !== null,
      lastWriteAt: now,
      credentialCheckedAt: now,
      credentialRecheckMs: credentialRecheckMs ?? CREDENTIAL_RECHECK_MS,
      progressSent: new Map(),
    };
    if (this.position === null) this.position = after;
    this.subscribers.add(subscriber);
    // The client went away (its read side was cancelled): leave at once, not at the next write.
    subscriber.writer.closed.catch(() => this.drop(subscriber, null));
    this.send(subscriber, sseFrame({ retry: 1000, comment: "connected" }));
    if (this.subscribers.size === 1) await this.seedFollowed().catch((error: unknown) => this.logger.warn("could not read running work", errorFields(error)));
    this.schedule(0);
    return new Response(readable, { headers: { "content-type": "text/event-stream; charset=utf-8" } });
  }

  private send(subscriber: Subscriber, frame: string) {
    if (!this.subscribers.has(subscriber)) return;
    if ((subscriber.writer.desiredSize ?? 0) < -MAX_BUFFERED_BYTES) {
      this.drop(subscriber, "too far behind");
      return;
    }
    subscriber.lastWriteAt = Date.now();
    subscriber.writer.write(encoder.encode(frame)).catch(() => this.drop(subscriber, null));
  }

  private drop(subscriber: Subscriber, reason: string | null) {
    if (!this.subscribers.delete(subscriber)) return;
    if (reason) this.logger.info("stream closed by the hub", { reason, user_id: subscriber.principal.user_id });
    subscriber.writer.close().catch(() => undefined);
    if (this.subscribers.size === 0) this.reset();
  }

  /** Nobody listens: forget the position, so a later first subscriber starts where it asks. */
  private reset() {
    this.epoch += 1;
    this.position = null;
    this.held.clear();
    this.gaps.clear();
    this.followed.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number) {
    if (this.subscribers.size === 0 || this.ticking) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick() {
    this.timer = null;
    if (this.ticking || this.subscribers.size === 0 || this.position === null) return;
    this.ticking = true;
    let more = false;
    try {
      more = await this.poll();
      this.keepAlive();
      await this.recheckCredentials();
    } catch (error) {
      this.logger.warn("event hub poll failed; retrying", errorFields(error));
    } finally {
      this.ticking = false;
    }
    this.schedule(more ? 0 : POLL_MS);
  }

  /**
   * One round trip: the live poll, each catching-up subscriber's page and the followed
   * progress. The live poll returns every id (the gap check needs them) but the content
   * only of events some subscriber may see.
   */
  private async poll(): Promise<boolean> {
    const subscribers = [...this.subscribers];
    const position = this.position!;
    const audience = sql.join(subscribers.map((s) => sql`(${eventVisible(s.principal, "e")})`), sql`, `);
    const live = this.db.execute(sql`select pg_snapshot_xmin(pg_current_snapshot())::text as snap_xmin,
        pg_snapshot_xmax(pg_current_snapshot())::text as snap_xmax, (extract(epoch from clock_timestamp()) * 1000)::float8 as db_now_ms,
        coalesce((select json_agg(case when true = any(r.audience) then to_json(r)
            else json_build_object('event_id', r.event_id, 'created_at', r.created_at, 'audience', r.audience) end order by r.event_id) from (
          select ${EVENT_COLUMNS}, array[${audience}]::boolean[] as audience
          from event_log e where e.event_id > ${position}::bigint order by e.event_id limit ${LIVE_PAGE}) r), '[]'::json) as events`);
    const catching = subscribers.filter((s) => s.catchingUp);
    const catchUps = catching.map((s) =>
      this.db.execute(sql`select ${EVENT_COLUMNS} from event_log e
        where ${eventVisible(s.principal, "e")} and e.event_id > ${s.after}::bigint and e.event_id <= ${position}::bigint
        order by e.event_id limit ${CATCH_UP_PAGE}`),
    );
    const followed = [...this.followed.values()];
    const queried = PROGRESS_SOURCES.map((source) => followed.filter((entry) => entry.source === source).map((entry) => entry.id));
    const progress = PROGRESS_SOURCES.map((source, index) => this.db.execute(source.query(queried[index]!, subscribers.map((s) => s.principal))));
    const epoch = this.epoch;
    const results = await this.db.batch([live, ...catchUps, ...progress] as unknown as Parameters<Database["batch"]>[0]);
    // Everyone left (and maybe someone came back) while the batch ran: its answers are stale.
    if (epoch !== this.epoch) return false;

    catching.forEach((subscriber, index) => {
      const rows = (results[1 + index] as { rows: EventRow[] }).rows;
      for (const row of rows) this.deliver(subscriber, row);
      if (rows.length < CATCH_UP_PAGE) {
        subscriber.after = Math.max(subscriber.after, position);
        subscriber.catchingUp = false;
      }
    });
    const poll = (results[0] as { rows: LivePoll[] }).rows[0]!;
    const advanced = this.advance(poll, subscribers);
    PROGRESS_SOURCES.forEach((source, index) => {
      const rows = (results[1 + catching.length + index] as { rows: (ProgressView & { audience: boolean[] })[] }).rows;
      this.emitProgress(source, queried[index]!, rows, subscribers);
    });
    // A full page that moved on: read the next one now (a full page held up by a gap waits a tick).
    return (poll.events.length === LIVE_PAGE && advanced) || catching.some((s) => s.catchingUp);
  }

  /**
   * Delivers the events above `position` in id order, holding back what follows an
   * unresolved gap; whether the position moved. A gap is settled (the id will never
   * commit) once every transaction running when it was first seen has ended, or when
   * the event after it is older than GAP_GIVE_UP_MS (a replay through old, rolled-back
   * ids does not wait).
   */
  private advance(poll: LivePoll, subscribers: Subscriber[]): boolean {
    const xmin = BigInt(poll.snap_xmin);
    const xmax = BigInt(poll.snap_xmax);
    const started = this.position!;
    for (const row of poll.events) this.held.set(Number(row.event_id), row);
    const top = Math.max(this.position!, ...this.held.keys());
    while (this.position! < top) {
      const next = this.position! + 1;
      const row = this.held.get(next);
      if (row) {
        this.held.delete(next);
        this.gaps.delete(next);
        row.audience.forEach((visible, index) => {
          const subscriber = subscribers[index]!;
          if (visible && !subscriber.catchingUp) this.deliver(subscriber, row);
        });
        this.follow(row);
      } else {
        const gap = this.gaps.get(next);
        if (!gap) {
          this.gaps.set(next, { xmax, since: Date.now() });
          continue;
        }
        const following = this.held.get(Math.min(...[...this.held.keys()].filter((id) => id > next)));
        const stale = following !== undefined && poll.db_now_ms - Date.parse(following.created_at) > GAP_GIVE_UP_MS;
        const settled = xmin >= gap.xmax || stale || Date.now() - gap.since > GAP_GIVE_UP_MS;
        if (!settled) break;
        if (xmin < gap.xmax && !stale) this.logger.warn("gave up waiting for an event id", { event_id: next });
        this.gaps.delete(next);
      }
      this.position = next;
    }
    return this.position! > started;
  }

  private deliver(subscriber: Subscriber, row: EventRow) {
    const id = Number(row.event_id);
    if (id <= subscriber.after) return;
    subscriber.after = id;
    this.send(subscriber, sseFrame({ id, event: "event", data: presentEvent(row) }));
  }

  private follow(row: EventRow) {
    const source = PROGRESS_SOURCES.find((candidate) => candidate.entityType === row.entity_type);
    if (source) this.followed.set(`${source.kind}:${row.entity_id}`, { source, id: Number(row.entity_id) });
  }

  /** Work already running when the first subscriber came: followed from the start. */
  private async seedFollowed() {
    const results = await this.db.batch(PROGRESS_SOURCES.map((source) => this.db.execute(source.running)) as unknown as Parameters<Database["batch"]>[0]);
    PROGRESS_SOURCES.forEach((source, index) => {
      for (const { id } of (results[index] as { rows: { id: number }[] }).rows) {
        this.followed.set(`${source.kind}:${id}`, { source, id: Number(id) });
      }
    });
  }

  private emitProgress(source: ProgressSource, queried: number[], rows: (ProgressView & { audience: boolean[] })[], subscribers: Subscriber[]) {
    // A followed row that is gone (deleted) is followed no more.
    const present = new Set(rows.map((row) => Number(row.id)));
    for (const id of queried) if (!present.has(id)) this.followed.delete(`${source.kind}:${id}`);
    for (const { audience, ...view } of rows) {
      const progress: ProgressView = { ...view, id: Number(view.id), done: Number(view.done), total: view.total === null ? null : Number(view.total) };
      const key = `${source.kind}:${progress.id}`;
      const state = JSON.stringify(progress);
      audience.forEach((visible, index) => {
        const subscriber = subscribers[index]!;
        if (!visible || subscriber.progressSent.get(key) === state) return;
        subscriber.progressSent.set(key, state);
        this.send(subscriber, sseFrame({ event: "progress", data: progress }));
      });
      if (source.finished(progress.status)) this.followed.delete(key);
    }
  }

  private keepAlive() {
    const now = Date.now();
    for (const subscriber of this.subscribers) {
      if (now - subscriber.lastWriteAt >= KEEP_ALIVE_MS) this.send(subscriber, sseFrame({ comment: "keep-alive" }));
    }
  }

  /** A credential revoked after the stream opened ends it (the request guard, asked again). */
  private async recheckCredentials() {
    const now = Date.now();
    const due = [...this.subscribers].filter((s) => now - s.credentialCheckedAt >= s.credentialRecheckMs);
    await Promise.all(
      due.map(async (subscriber) => {
        subscriber.credentialCheckedAt = now;
        try {
          await this.db.execute(credentialGuard(subscriber.principal));
        } catch (error) {
          if (credentialLapsed(error)) this.drop(subscriber, "credential revoked or roles changed");
        }
      }),
    );
  }
}

/** Revoked, or (API tokens) its roles changed: either way the stream's visibility no longer holds. */
function credentialLapsed(error: unknown): boolean {
  const code = postgresErrorOf(error)?.code;
  return code === CREDENTIAL_REVOKED || code === PRINCIPAL_STALE;
}
