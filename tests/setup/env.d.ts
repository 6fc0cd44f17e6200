import type { Bindings } from "../../src/env.ts";

declare global {
  namespace Cloudflare {
    // The test bindings are the Worker's own (wrangler.toml plus vitest.config.mts overrides).
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface Env extends Bindings {}
  }
}
