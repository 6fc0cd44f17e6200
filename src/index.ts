/**
 * The API Worker (wrangler.toml, `grandscale-api`): HTTP only. It produces to the queues;
 * their consumers, the cron triggers and the webhook dispatcher run in the background
 * Worker (src/background.ts, wrangler.background.toml), so that the parsers (unpdf, the
 * XLSX and CSV readers) are not in this bundle: an isolate that answers requests starts
 * without compiling them (README "Two Workers", BENCHMARKS.md "Bundle and startup").
 */
import { createAppShell } from "./app-shell.ts";
import type { Bindings } from "./env.ts";
import { rerunOnStalePrincipal } from "./features/api-tokens/stale-principal.ts";

// GET /events/stream's hubs answer the stream this Worker serves: they live here.
export { EventHub } from "./features/events/event-hub-object.ts";

// Only the shell is evaluated at start-up; the app is imported on first use (src/app-shell.ts).
const fetch = createAppShell();

export default {
  fetch: rerunOnStalePrincipal(fetch),
} satisfies ExportedHandler<Bindings>;
