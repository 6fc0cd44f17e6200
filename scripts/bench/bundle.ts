/**
 * The production bundle, built exactly as `wrangler deploy` builds it
 * (`wrangler deploy --dry-run --outdir <dir>`: same esbuild settings, nodejs_compat
 * polyfills, define and minify flags as wrangler.toml says), and its size as uploaded:
 * every module of the output, source maps and the README excluded, gzipped.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

export type Bundle = {
  dir: string;
  main: string;
  build_ms: number;
  modules: { name: string; bytes: number; gzip_bytes: number }[];
  bytes: number;
  gzip_bytes: number;
};

const ROOT = resolve(import.meta.dirname, "../..");

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (data) => (output += data));
    child.stderr.on("data", (data) => (output += data));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolvePromise(output) : reject(new Error(`${command} ${args.join(" ")} failed:\n${output}`))));
  });
}

export async function buildBundle(outDir: string): Promise<Bundle> {
  const started = performance.now();
  await run(resolve(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", outDir]);
  const build_ms = performance.now() - started;
  const modules = readdirSync(outDir)
    .filter((name) => !name.endsWith(".map") && name !== "README.md" && statSync(join(outDir, name)).isFile())
    .map((name) => {
      const content = readFileSync(join(outDir, name));
      return { name, bytes: content.length, gzip_bytes: gzipSync(content).length };
    });
  const main = modules.find((module) => module.name === "index.js") ?? modules[0];
  if (!main) throw new Error(`wrangler wrote no module to ${outDir}`);
  return {
    dir: outDir,
    main: main.name,
    build_ms,
    modules,
    bytes: modules.reduce((sum, module) => sum + module.bytes, 0),
    gzip_bytes: modules.reduce((sum, module) => sum + module.gzip_bytes, 0),
  };
}
