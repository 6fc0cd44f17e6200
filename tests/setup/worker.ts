/**
 * The tests' Worker: both production Workers' entry points in one (vitest.config.mts sets
 * it as `main`). `fetch` and EventHub are the API Worker's (src/index.ts); `queue`,
 * `scheduled` and WebhookDispatcher the background Worker's (src/background.ts). The
 * bindings are wrangler.toml's plus wrangler.background.toml's consumers, so a message an
 * API request sends is delivered to the real consumer by Miniflare's queue broker, and
 * the dispatcher a write wakes is the real Durable Object. That the two Workers also work
 * as two Workers is what `npm run dev` (scripts/ci-clients.sh) and `npm run bench` run.
 */
import api from "../../src/index.ts";
import background from "../../src/background.ts";

export { EventHub } from "../../src/index.ts";
export { WebhookDispatcher } from "../../src/background.ts";

export default {
  fetch: api.fetch,
  queue: background.queue,
  scheduled: background.scheduled,
} satisfies ExportedHandler<Cloudflare.Env>;
