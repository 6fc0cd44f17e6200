import { createApp } from "./app.ts";
import type { Bindings } from "./env.ts";
import { handleQueueBatch } from "./queues/index.ts";
import { handleScheduled } from "./scheduled.ts";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: handleQueueBatch,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Bindings>;
