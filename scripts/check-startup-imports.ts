/**
 * What an API isolate evaluates when it starts (README "Two Workers", issue 20): the
 * modules the entry (src/index.ts) reaches through static imports. Everything else, the
 * framework, zod, drizzle and the driver included, waits for the first request that needs
 * it (src/app-shell.ts, features/events/event-hub-object.ts). An npm package in this set
 * would be evaluated by every new isolate, so CI fails on one.
 *
 * It follows `import` statements and `require()` calls, not `import()`: a dynamic import
 * is what defers a module, as long as it is called on a request and not at the top level
 * (which this does not see; src/app-shell.ts and event-hub-object.ts call theirs in
 * `fetch`).
 *
 * Reads the metafile `wrangler deploy --dry-run --metafile <file>` writes (esbuild's: every
 * input with its imports and their kind).
 *   npm run startup:check -- dist.meta.json
 */
import { readFileSync } from "node:fs";

type Metafile = { inputs: Record<string, { bytes: number; imports: { path: string; kind: string; external?: boolean }[] }> };

const ENTRY = "src/index.ts";

const [metafilePath] = process.argv.slice(2);
if (!metafilePath) throw new Error("usage: node scripts/check-startup-imports.ts <metafile>");
const { inputs } = JSON.parse(readFileSync(metafilePath, "utf8")) as Metafile;
if (!inputs[ENTRY]) throw new Error(`${metafilePath} has no ${ENTRY}`);

const evaluated = new Set<string>([ENTRY]);
for (const path of evaluated) {
  for (const imported of inputs[path]?.imports ?? []) {
    if ((imported.kind === "import-statement" || imported.kind === "require-call") && !imported.external) evaluated.add(imported.path);
  }
}

const bytes = [...evaluated].reduce((sum, path) => sum + (inputs[path]?.bytes ?? 0), 0);
console.log(`evaluated at isolate start: ${evaluated.size} modules, ${bytes} bytes of source`);
for (const path of evaluated) console.log(`  ${path}`);
const packages = new Set([...evaluated].flatMap((path) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? []));
if (packages.size > 0) {
  console.error(`npm packages evaluated at isolate start: ${[...packages].join(", ")}; import them on first use (src/app-shell.ts)`);
  process.exit(1);
}
