/**
 * The background Worker (wrangler.background.toml, `grandscale-background`): every queue
 * consumer (parse, export, validation, draft, webhook and their dead-letter queues), the
 * cron triggers and the webhook dispatcher, which writes wake through a binding of the
 * API Worker (`script_name`). It serves no HTTP (README "Two Workers").
 */
import type { SharedBindings } from "./env.ts";
import { handleQueueBatch } from "./queues/index.ts";
import { handleScheduled } from "./scheduled.ts";

export { WebhookDispatcher } from "./features/webhooks/webhook-dispatcher.ts";

export default {
  queue: handleQueueBatch,
  scheduled: handleScheduled,
} satisfies ExportedHandler<SharedBindings>;
