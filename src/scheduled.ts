import { createDatabase } from "./db/client.ts";
import { loadSharedConfig, type SharedBindings } from "./env.ts";
import { sweepUploads } from "./features/uploads/uploads.cleanup.ts";
import { dispatchWebhookEvents } from "./features/webhooks/webhook-dispatch.ts";
import { createLogger, errorFields } from "./lib/logger.ts";

/** wrangler.toml's every-minute cron: the webhook outbox dispatcher (features/webhooks/webhook-dispatch.ts). */
export const WEBHOOK_CRON = "* * * * *";

/**
 * The cron trigger's entry point (wrangler.toml `[triggers]`). The 15-minute run does the
 * periodic housekeeping; each task is bounded per run and safe to repeat.
 */
export async function handleScheduled(controller: ScheduledController, env: SharedBindings): Promise<void> {
  const requestId = `cron:${controller.cron}:${new Date(controller.scheduledTime).toISOString()}`;
  const config = loadSharedConfig(env);
  const logger = createLogger({ request_id: requestId }, config.LOG_LEVEL);
  if (controller.cron === WEBHOOK_CRON) {
    await dispatchWebhookEvents({ db: createDatabase(config), queue: config.WEBHOOK_QUEUE, logger });
    return;
  }
  try {
    await sweepUploads({ db: createDatabase(config), config, logger, requestId });
  } catch (error) {
    logger.error("scheduled upload sweep failed", errorFields(error));
    throw error;
  }
}
