/**
 * The webhook outbox's runner (README "Webhooks"): one Durable Object for the whole
 * deployment (the dispatch state is one row, and runs must not overlap), woken by
 * `signal()` after writes (webhook-signal.ts), running dispatchWebhookEvents on its alarm.
 *
 * - Woken, it runs at once; then every RUN_INTERVAL_MS while there is something to do:
 *   a horizon not yet settled, or a wake-up less than SIGNAL_COALESCE_MS old (an isolate
 *   sends at most one signal per that window, so a write whose own signal was skipped
 *   committed before a run that starts after it). With no writes it sleeps: no queries.
 * - An event is therefore dispatched two runs after its commit at most (the run that
 *   notes it under the horizon, the run that settles it), then goes through the
 *   `webhook` queue to its endpoint.
 * - The state lives in the database (the horizon) and in the alarm; nothing is lost
 *   when the object is evicted. A failed run is retried by the next alarm. A lost
 *   wake-up costs latency, not events: the every-minute cron runs the same dispatcher.
 */
import { DurableObject } from "cloudflare:workers";
import { createDatabase, type Database } from "../../db/client.ts";
import { loadSharedConfig, type SharedBindings, type SharedConfig } from "../../env.ts";
import { createLogger, errorFields, type Logger } from "../../lib/logger.ts";
import { dispatchWebhookEvents } from "./webhook-dispatch.ts";
import { SIGNAL_COALESCE_MS } from "./webhook-signal.ts";

/** Time between runs while events flow: each run is one statement over every endpoint. */
export const RUN_INTERVAL_MS = 200;
/** After a failed run (the database unreachable), the next try. */
const RETRY_AFTER_MS = 2_000;

export class WebhookDispatcher extends DurableObject<SharedBindings> {
  private readonly config: SharedConfig;
  private readonly db: Database;
  private readonly logger: Logger;
  /** When the last wake-up arrived (memory only: after an eviction the first wake-up sets it again). */
  private signalledAt = 0;
  private running = false;

  constructor(ctx: DurableObjectState, env: SharedBindings) {
    super(ctx, env);
    this.config = loadSharedConfig(env as unknown as Record<string, unknown>);
    this.db = createDatabase(this.config);
    this.logger = createLogger({ component: "webhook-dispatcher" }, this.config.LOG_LEVEL);
  }

  /** Something may have been written: run soon. Cheap and idempotent; many wake-ups make one run. */
  async signal(): Promise<void> {
    this.signalledAt = Date.now();
    // A running alarm looks at signalledAt when it ends and schedules the next run itself.
    if (this.running) return;
    const scheduled = await this.ctx.storage.getAlarm();
    const now = Date.now();
    if (scheduled === null || scheduled < now || scheduled > now + RUN_INTERVAL_MS) await this.ctx.storage.setAlarm(now);
  }

  override async alarm(): Promise<void> {
    this.running = true;
    const started = Date.now();
    let next: number | null;
    try {
      const run = await dispatchWebhookEvents({ db: this.db, queue: this.config.WEBHOOK_QUEUE, logger: this.logger });
      const unsettled = run.pending_horizon > run.settled_event_id;
      const recentlySignalled = this.signalledAt + SIGNAL_COALESCE_MS >= started;
      next = unsettled || recentlySignalled ? RUN_INTERVAL_MS : null;
    } catch (error) {
      this.logger.warn("webhook dispatch run failed; retrying", errorFields(error));
      next = RETRY_AFTER_MS;
    }
    // Decided synchronously with the flag's reset: a wake-up after this point sets its own alarm.
    this.running = false;
    if (next !== null) await this.ctx.storage.setAlarm(Date.now() + next);
  }
}
