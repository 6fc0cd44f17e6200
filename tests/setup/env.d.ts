import type { Bindings } from "../../src/env.ts";
// Bindings (the API's) hold the background Worker's too (SharedBindings): tests/setup/worker.ts is both.

declare global {
  namespace Cloudflare {
    // The test bindings are the Worker's own (wrangler.toml plus vitest.config.mts overrides).
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface Env extends Bindings {}
  }
}
