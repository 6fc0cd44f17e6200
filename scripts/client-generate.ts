/**
 * `npm run client:generate`: refreshes what the clients are built from.
 *   1. clients/openapi.json (and the copy the Python package ships) from the live
 *      /openapi.json: from API_URL when set, else from a `wrangler dev` this script starts
 *      on a free port and stops (the document needs no database);
 *   2. clients/typescript/src/schema.d.ts from that snapshot (openapi-typescript).
 * `--from-snapshot` skips step 1 (no server): CI runs it and fails on any diff.
 * tests/clients-openapi.test.ts fails when the snapshot differs from the routes.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { generateSigningKey } from "./lib/signing-keys.ts";

const root = resolve(import.meta.dirname, "..");
const snapshotPath = resolve(root, "clients/openapi.json");
const pythonCopyPath = resolve(root, "clients/python/grandscale/openapi.json");
const schemaPath = resolve(root, "clients/typescript/src/schema.d.ts");

async function fetchSpec(base: string): Promise<unknown> {
  const response = await fetch(`${base}/openapi.json`);
  if (!response.ok) throw new Error(`GET ${base}/openapi.json answered ${response.status}`);
  return response.json();
}

async function specFromOwnWorker(): Promise<unknown> {
  const port = 8900 + Math.floor(Math.random() * 90);
  const worker = spawn(
    resolve(root, "node_modules/.bin/wrangler"),
    [
      "dev", "--ip", "127.0.0.1", "--port", String(port), "--show-interactive-dev-session=false",
      "--var", "DATABASE_URL:postgres://client-generate@127.0.0.1:1/none",
      "--var", "APP_ENV:development",
      "--var", `JWT_SIGNING_KEYS:${JSON.stringify([await generateSigningKey()])}`,
    ],
    { cwd: root, stdio: ["ignore", "ignore", "inherit"], detached: true },
  );
  const stop = () => {
    if (worker.exitCode !== null || worker.signalCode !== null || worker.pid === undefined) return;
    try {
      process.kill(-worker.pid, "SIGTERM");
    } catch {
      worker.kill("SIGTERM");
    }
  };
  process.on("exit", stop);
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let attempt = 0; attempt < 120; attempt++) {
      try {
        if ((await fetch(`${base}/health`)).ok) return await fetchSpec(base);
      } catch {
        // not listening yet
      }
      await new Promise((done) => setTimeout(done, 500));
    }
    throw new Error("wrangler dev did not answer /health within 60 s");
  } finally {
    stop();
  }
}

if (!process.argv.includes("--from-snapshot")) {
  const spec = process.env.API_URL ? await fetchSpec(process.env.API_URL.replace(/\/$/, "")) : await specFromOwnWorker();
  const text = `${JSON.stringify(spec, null, 2)}\n`;
  writeFileSync(snapshotPath, text);
  writeFileSync(pythonCopyPath, text);
  console.log(`wrote clients/openapi.json and clients/python/grandscale/openapi.json`);
} else if (readFileSync(pythonCopyPath, "utf8") !== readFileSync(snapshotPath, "utf8")) {
  writeFileSync(pythonCopyPath, readFileSync(snapshotPath, "utf8"));
  console.log("copied clients/openapi.json to clients/python/grandscale/openapi.json");
}

const generated = spawnSync(resolve(root, "node_modules/.bin/openapi-typescript"), [snapshotPath, "-o", schemaPath], { cwd: root, stdio: "inherit" });
if (generated.status !== 0) process.exit(generated.status ?? 1);
console.log("wrote clients/typescript/src/schema.d.ts");
