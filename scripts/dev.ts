/**
 * `npm run dev`: the whole stack on one machine with nothing installed but Node.
 * Embedded Postgres (or DATABASE_URL) → migrations → demo data → the local Neon
 * gateway → `wrangler dev` on 127.0.0.1:8787 with both Workers in one process (the API,
 * and the background Worker with the queue consumers, crons and webhook dispatcher: one
 * workerd, so they share the queues, R2 and the Durable Objects). Ctrl-C stops every part.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { experimental_readRawConfig } from "wrangler";
import { migrateDatabase } from "./lib/migrate.ts";
import { devSigningKeys, forgetDevStack, openLocalDatabase, recordDevStack } from "./lib/local-database.ts";
import { startNeonGateway } from "./lib/neon-gateway.ts";
import { DEFAULT_SEED_PASSWORD } from "../src/db/seed/seed.ts";
import { seedDatabase } from "./db-seed.ts";

const PORT = Number(process.env.PORT ?? 8787);
const root = resolve(import.meta.dirname, "..");

function pick(names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])));
}

/**
 * wrangler.background.toml with these variables added, written beside it (git-ignored):
 * wrangler dev passes `--var` to the first Worker only, and a second config in the same
 * directory keeps its relative paths and the same local state (.wrangler/state).
 */
function backgroundDevConfig(vars: Record<string, string>): string {
  const { rawConfig } = experimental_readRawConfig({ config: resolve(root, "wrangler.background.toml") });
  const path = "wrangler.background.dev.json";
  writeFileSync(resolve(root, path), JSON.stringify({ ...rawConfig, vars: { ...rawConfig.vars, ...vars } }, null, 2));
  return path;
}

const { databaseUrl, embedded } = await openLocalDatabase();
if (embedded) recordDevStack(databaseUrl);
const gateway = await startNeonGateway();
let wrangler: ChildProcess | undefined;
let stopping = false;

async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  wrangler?.kill("SIGTERM");
  await gateway.close();
  await embedded?.stop();
  if (embedded) forgetDevStack();
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

try {
  await migrateDatabase(databaseUrl);
  const password = process.env.SEED_PASSWORD ?? DEFAULT_SEED_PASSWORD;
  const logins = await seedDatabase(databaseUrl, password);

  // What both Workers read (src/env.ts, the shared shape): the same database, and the
  // same key for webhook secrets (the API encrypts them, the background Worker's deliveries decrypt).
  const shared: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    NEON_GATEWAY_URL: gateway.url,
    APP_ENV: "development",
    SERVER_TIMING: "true",
    // Webhooks to local receivers (http, localhost); a fresh key for their secrets each run.
    WEBHOOK_ALLOW_INSECURE: "true",
    WEBHOOK_SECRET_KEY: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))),
    // Drafting by a model (README "Suggestions"): LLM_BASE_URL=… npm run dev passes the API on.
    ...pick(["LLM_BASE_URL", "LLM_API_KEY", "LLM_MODEL"]),
  };
  const api: Record<string, string> = {
    ...shared,
    JWT_SIGNING_KEYS: await devSigningKeys(),
    // Presigned URLs point at the S3 endpoint wrangler dev serves for the FILES bucket,
    // with wrangler.toml's local_dev.experimental_s3_credentials.
    R2_S3_ENDPOINT: `http://127.0.0.1:${PORT}/cdn-cgi/local/r2/s3`,
    R2_ACCESS_KEY_ID: "local-access-key",
    R2_SECRET_ACCESS_KEY: "local-secret-key",
    // MULTIPART_THRESHOLD_BYTES=… npm run dev: multipart uploads from smaller files (the clients' CI run).
    ...pick(["MULTIPART_THRESHOLD_BYTES"]),
  };

  wrangler = spawn(
    resolve(root, "node_modules/.bin/wrangler"),
    [
      "dev", "--ip", "127.0.0.1", "--port", String(PORT), "--show-interactive-dev-session=false",
      // The first config is the one served on PORT; the second runs beside it.
      "-c", "wrangler.toml", "-c", backgroundDevConfig(shared),
      // `--var` reaches the first Worker only; the background's are in its generated config.
      ...Object.entries(api).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
    ],
    { cwd: root, stdio: ["ignore", "inherit", "inherit"] },
  );
  wrangler.on("exit", (code) => void stop(code ?? 0));

  const base = `http://127.0.0.1:${PORT}`;
  console.log(`
GrandScale API (development)
  API        ${base}/api/v1
  Reference  ${base}/docs
  OpenAPI    ${base}/openapi.json
  Health     ${base}/health
  Database   ${embedded ? "embedded PGlite in .data/pglite" : "DATABASE_URL"}

Demo logins (password: ${password})
${logins.map((email) => `  ${email}`).join("\n")}
`);
} catch (error) {
  console.error(error);
  await stop(1);
}
