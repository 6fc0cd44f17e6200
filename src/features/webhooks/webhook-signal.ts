/**
 * Wakes the webhook dispatcher (webhook-dispatcher.ts) after a write, so deliveries start
 * within a second instead of at the next cron minute. The wake-up carries nothing and
 * reads nothing: it is sent after the answer (`waitUntil`), costs the write no database
 * round trip, and whether it arrives never decides what is delivered — the dispatcher
 * reads event_log, and the cron runs it anyway.
 *
 * Not every write writes an event and not every organization has webhooks, but telling
 * would take a query; a wake-up is cheaper than that query. An isolate sends at most one
 * per SIGNAL_COALESCE_MS, so a busy isolate costs the single dispatcher object a few
 * requests a second, not one per write.
 */
import { createMiddleware } from "hono/factory";
import type { Config } from "../../env.ts";
import type { Logger } from "../../lib/logger.ts";
import type { AppEnv } from "../../lib/types.ts";

export const SIGNAL_COALESCE_MS = 100;
/** The one dispatcher of the deployment. */
export const DISPATCHER_NAME = "webhook-dispatcher";

let lastSignalAt = Number.NEGATIVE_INFINITY;

type SignalConfig = Pick<Config, "WEBHOOK_DISPATCH_SIGNAL" | "WEBHOOK_DISPATCHER">;
/** The dispatcher's RPC surface (the class itself imports cloudflare:workers, which the app's route table must not). */
type DispatcherStub = { signal(): Promise<void> };

/** Wakes the dispatcher unless this isolate did within SIGNAL_COALESCE_MS (the dispatcher then runs again after that window). */
export async function signalWebhookDispatcher(config: SignalConfig, logger: Logger): Promise<void> {
  if (!config.WEBHOOK_DISPATCH_SIGNAL) return;
  const now = Date.now();
  if (now - lastSignalAt < SIGNAL_COALESCE_MS) return;
  lastSignalAt = now;
  const namespace = config.WEBHOOK_DISPATCHER;
  try {
    await (namespace.get(namespace.idFromName(DISPATCHER_NAME)) as unknown as DispatcherStub).signal();
  } catch (error) {
    // Only latency is lost: the cron dispatches within the minute.
    lastSignalAt = Number.NEGATIVE_INFINITY;
    logger.warn("could not wake the webhook dispatcher", { error: error instanceof Error ? error.message : String(error) });
  }
}

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/** After a request that may have written (not a read, not refused), wakes the dispatcher once the answer is out. */
export const webhookSignal = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (READS.has(c.req.method) || c.res.status >= 400 || !c.get("config").WEBHOOK_DISPATCH_SIGNAL) return;
  c.executionCtx.waitUntil(signalWebhookDispatcher(c.get("config"), c.get("logger")));
});
