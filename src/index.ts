import { createApp } from "./app.ts";
import type { Bindings } from "./env.ts";
import { rerunOnStalePrincipal } from "./features/api-tokens/stale-principal.ts";
import { handleQueueBatch } from "./queues/index.ts";
import { handleScheduled } from "./scheduled.ts";

export { EventHub } from "./features/events/event-hub.ts";
export { WebhookDispatcher } from "./features/webhooks/webhook-dispatcher.ts";

const app = createApp();

export default {
  fetch: rerunOnStalePrincipal(app.fetch),
  queue: handleQueueBatch,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Bindings>;
