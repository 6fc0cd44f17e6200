/**
 * Stands in for two of zod's modules in the bundles (wrangler.toml `[alias]`, keys
 * "./compile.js" and "./from-json-schema.js", which only zod's own index modules import):
 * `z.compile` (the JIT parser, ~31 KiB) and `z.fromJSONSchema` (~12 KiB) are kept in a
 * bundle by zod's namespace export `z` although this API calls neither. Calling one here
 * says so instead of failing obscurely. The bench's bundle step lists what each bundle
 * holds (BENCHMARKS.md "Bundle and startup"): a new importer of these paths shows there.
 */
const unbundled = (name: string) => () => {
  throw new Error(`zod's ${name} is not in this bundle (src/lib/zod-unused.ts)`);
};

export const INVALID = Symbol.for("zod.compile.invalid");
export class ZodCompileAsyncError extends Error {}
export class ZodCompileUnsupportedError extends Error {}
export const compile = unbundled("compile");
export const compileFn = unbundled("compile");
export const withParser = unbundled("withParser");
export const fromJSONSchema = unbundled("fromJSONSchema");
