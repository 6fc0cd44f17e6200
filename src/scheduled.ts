import { createDatabase } from "./db/client.ts";
import { loadConfig, type Bindings } from "./env.ts";
import { sweepUploads } from "./features/uploads/uploads.cleanup.ts";
import { createLogger, errorFields } from "./lib/logger.ts";

/**
 * The cron trigger's entry point (wrangler.toml `[triggers]`). Every run does all the
 * periodic housekeeping; each task is bounded per run and safe to repeat.
 */
export async function handleScheduled(controller: ScheduledController, env: Bindings): Promise<void> {
  const requestId = `cron:${controller.cron}:${new Date(controller.scheduledTime).toISOString()}`;
  const config = loadConfig(env);
  const logger = createLogger({ request_id: requestId }, config.LOG_LEVEL);
  try {
    await sweepUploads({ db: createDatabase(config), config, logger, requestId });
  } catch (error) {
    logger.error("scheduled upload sweep failed", errorFields(error));
    throw error;
  }
}
