/**
 * `npm run dev`: the whole stack on one machine with nothing installed but Node.
 * Embedded Postgres (or DATABASE_URL) → migrations → demo data → the local Neon
 * gateway → `wrangler dev` on 127.0.0.1:8787. Ctrl-C stops every part.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { migrateDatabase } from "./lib/migrate.ts";
import { devSigningKeys, forgetDevStack, openLocalDatabase, recordDevStack } from "./lib/local-database.ts";
import { startNeonGateway } from "./lib/neon-gateway.ts";
import { DEFAULT_SEED_PASSWORD } from "../src/db/seed/seed.ts";
import { seedDatabase } from "./db-seed.ts";

const PORT = Number(process.env.PORT ?? 8787);
const root = resolve(import.meta.dirname, "..");

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

  wrangler = spawn(
    resolve(root, "node_modules/.bin/wrangler"),
    [
      "dev", "--ip", "127.0.0.1", "--port", String(PORT), "--show-interactive-dev-session=false",
      "--var", `DATABASE_URL:${databaseUrl}`,
      "--var", `NEON_GATEWAY_URL:${gateway.url}`,
      "--var", "APP_ENV:development",
      "--var", "SERVER_TIMING:true",
      "--var", `JWT_SIGNING_KEYS:${await devSigningKeys()}`,
      // Presigned URLs point at the S3 endpoint wrangler dev serves for the FILES bucket,
      // with wrangler.toml's local_dev.experimental_s3_credentials.
      "--var", `R2_S3_ENDPOINT:http://127.0.0.1:${PORT}/cdn-cgi/local/r2/s3`,
      "--var", "R2_ACCESS_KEY_ID:local-access-key",
      "--var", "R2_SECRET_ACCESS_KEY:local-secret-key",
      // Webhooks to local receivers (http, localhost); a fresh key for their secrets each run.
      "--var", "WEBHOOK_ALLOW_INSECURE:true",
      "--var", `WEBHOOK_SECRET_KEY:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`,
      // Drafting by a model (README "Suggestions"): LLM_BASE_URL=… npm run dev passes the API on.
      // MULTIPART_THRESHOLD_BYTES=… npm run dev: multipart uploads from smaller files (the clients' CI run).
      ...["LLM_BASE_URL", "LLM_API_KEY", "LLM_MODEL", "MULTIPART_THRESHOLD_BYTES"].flatMap((name) => (process.env[name] ? ["--var", `${name}:${process.env[name]}`] : [])),
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
