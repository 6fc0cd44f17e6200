/**
 * The production bundles, built exactly as `wrangler deploy` builds them
 * (`wrangler deploy --dry-run -c <config> --outdir <dir>`: same esbuild settings,
 * nodejs_compat polyfills, define, alias and minify flags as the config says), and their
 * sizes as uploaded: every module of the output, source maps and the README excluded,
 * gzipped; and what each is made of (esbuild's metafile, which `--metafile` asks wrangler
 * for). Two Workers (README "Two Workers"): the API's (wrangler.toml), which isolates
 * answering requests start from, and the background Worker's (wrangler.background.toml).
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

export type BuiltBundle = {
  /** The wrangler config it was built from. */
  config: string;
  dir: string;
  main: string;
  build_ms: number;
  modules: { name: string; bytes: number; gzip_bytes: number }[];
  bytes: number;
  gzip_bytes: number;
  /** What the bytes are: the largest packages (and src/) by their share of the output, from esbuild's metafile. */
  composition: { source: string; bytes: number; share: number }[];
};

/** The API Worker's bundle (what the load, startup and agreement steps run), with the background Worker's beside it. */
export type Bundle = BuiltBundle & { background: BuiltBundle };

/** Output bytes per npm package (src/ for ours), largest first, from esbuild's metafile. */
function composition(metafile: string): BuiltBundle["composition"] {
  const meta = JSON.parse(readFileSync(metafile, "utf8")) as { outputs: Record<string, { inputs?: Record<string, { bytesInOutput: number }> }> };
  const bySource = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [path, input] of Object.entries(output.inputs ?? {})) {
      const source = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? (path.startsWith("src/") ? "src" : "other");
      bySource.set(source, (bySource.get(source) ?? 0) + input.bytesInOutput);
    }
  }
  const total = [...bySource.values()].reduce((sum, bytes) => sum + bytes, 0) || 1;
  return [...bySource]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([source, bytes]) => ({ source, bytes, share: bytes / total }));
}

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

async function build(config: string, outDir: string): Promise<BuiltBundle> {
  const started = performance.now();
  // wrangler's entry under this Node (22): the `node` on PATH may be older than wrangler accepts.
  const metafile = `${outDir}.meta.json`;
  await run(process.execPath, [resolve(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "-c", config, "--outdir", outDir, "--metafile", metafile]);
  const build_ms = performance.now() - started;
  const modules = readdirSync(outDir)
    .filter((name) => !name.endsWith(".map") && name !== "README.md" && statSync(join(outDir, name)).isFile())
    .map((name) => {
      const content = readFileSync(join(outDir, name));
      return { name, bytes: content.length, gzip_bytes: gzipSync(content).length };
    });
  // The entry module is named after the config's main (src/index.ts → index.js).
  const main = modules.find((module) => module.name === "index.js" || module.name === "background.js") ?? modules[0];
  if (!main) throw new Error(`wrangler wrote no module to ${outDir}`);
  return {
    config,
    dir: outDir,
    main: main.name,
    build_ms,
    modules,
    bytes: modules.reduce((sum, module) => sum + module.bytes, 0),
    gzip_bytes: modules.reduce((sum, module) => sum + module.gzip_bytes, 0),
    composition: composition(metafile),
  };
}

/** Both Workers' bundles, one after the other (each build takes both cores). */
export async function buildBundle(outDir: string): Promise<Bundle> {
  const api = await build("wrangler.toml", outDir);
  const background = await build("wrangler.background.toml", `${outDir}-background`);
  return { ...api, background };
}
