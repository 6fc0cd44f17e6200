/**
 * Stands in for three of zod's modules in the bundles (wrangler.toml `[alias]`, keys
 * "./compile.js", "./from-json-schema.js", "./to-json-schema.js" and
 * "../core/to-json-schema.js", which only zod's own modules import): `z.compile` (the JIT
 * parser, ~31 KiB), `z.fromJSONSchema` (~12 KiB) and the JSON Schema output
 * (`z.toJSONSchema`, a schema's `~standard.jsonSchema`, ~9 KiB) are kept in a bundle by
 * zod's namespace export `z` although this API uses none of them (its OpenAPI document is
 * @asteasolutions/zod-to-openapi's own walk of the schemas; tests/clients-openapi.test.ts
 * holds it to the committed snapshot). Calling one here says so instead of failing obscurely. The bench's bundle step lists what each bundle
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

// to-json-schema.js: the two method factories run when a schema is built, so they return a
// method that throws when called; the rest only runs inside a JSON Schema conversion.
export const createToJSONSchemaMethod = () => unbundled("toJSONSchema");
export const createStandardJSONSchemaMethod = () => unbundled("~standard.jsonSchema");
export const initializeContext = unbundled("toJSONSchema");
export const handleUnrepresentable = unbundled("toJSONSchema");
export const processSchema = unbundled("toJSONSchema");
export const process = processSchema;
export const extractDefs = unbundled("toJSONSchema");
export const finalize = unbundled("toJSONSchema");
