/**
 * `npm run fuzz -- [--requests N] [--seed S]`: the long form of tests/fuzz.test.ts (CI
 * runs it with 2000 requests and a fresh seed). The counts reach the test through
 * vitest's `provide` (vitest.config.mts reads FUZZ_REQUESTS and FUZZ_SEED); a failing
 * run prints its seed, and `--seed` replays the same requests.
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { requests: { type: "string", default: "10000" }, seed: { type: "string" } },
});
const requests = Number(values.requests);
if (!Number.isInteger(requests) || requests < 1) {
  console.error("--requests takes a positive integer");
  process.exit(2);
}
if (values.seed !== undefined && !/^\d+$/.test(values.seed)) {
  console.error("--seed takes a non-negative integer (the seed a failing run printed)");
  process.exit(2);
}

const root = resolve(import.meta.dirname, "..");
const result = spawnSync(resolve(root, "node_modules/.bin/vitest"), ["run", "tests/fuzz.test.ts"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, FUZZ_REQUESTS: String(requests), ...(values.seed === undefined ? {} : { FUZZ_SEED: values.seed }) },
});
process.exit(result.status ?? 1);
