/**
 * Stands in for zod's `locales/index.js` in the bundles (wrangler.toml `[alias]`): zod's
 * namespace export (`z`, which @hono/zod-openapi re-exports) reaches every one of its ~40
 * locales through `z.locales`, some 250 KiB of the bundle before minifying, and this API
 * speaks English only. English stays: zod registers it itself (classic/schemas.js imports
 * locales/en.js directly); this module keeps `z.locales.en` for anyone who calls it.
 */
export { default as en } from "zod/v4/locales/en.js";
