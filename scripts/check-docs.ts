/**
 * Proves /docs renders: starts the Worker with `wrangler dev`, opens /docs in headless
 * Chromium (Debian's, driven by playwright-core) and waits for the reference to show
 * the API's title and its operations. Leaves a screenshot in dist/docs.png.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { chromium } from "playwright-core";
import { generateSigningKey } from "./lib/signing-keys.ts";

const root = resolve(import.meta.dirname, "..");
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!existsSync(executablePath)) {
  console.error(`no Chromium at ${executablePath}: apt-get install chromium, or set CHROMIUM_PATH`);
  process.exit(1);
}

const port = 8790 + Math.floor(Math.random() * 100);
const worker = spawn(
  resolve(root, "node_modules/.bin/wrangler"),
  [
    "dev", "--ip", "127.0.0.1", "--port", String(port), "--show-interactive-dev-session=false",
    // /docs needs no database; the setting only has to be well-formed.
    "--var", "DATABASE_URL:postgres://docs-check@127.0.0.1:1/none",
    "--var", "APP_ENV:development",
    "--var", `JWT_SIGNING_KEYS:${JSON.stringify([await generateSigningKey()])}`,
  ],
  // Its own process group, so stopping it stops the workerd it starts as well.
  { cwd: root, stdio: ["ignore", "pipe", "inherit"], detached: true },
);

/** Stops wrangler dev and its children, whatever happened before (idempotent). */
function stopWorker() {
  if (worker.exitCode !== null || worker.signalCode !== null || worker.pid === undefined) return;
  try {
    process.kill(-worker.pid, "SIGTERM");
  } catch {
    worker.kill("SIGTERM");
  }
}
// Whatever ends this process (an exception before the `try`, Ctrl-C) ends wrangler dev too.
process.on("exit", stopWorker);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    stopWorker();
    process.exit(1);
  });
}
const base = `http://127.0.0.1:${port}`;

async function waitForWorker() {
  for (let attempt = 0; attempt < 120; attempt++) {
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 500));
  }
  throw new Error("wrangler dev did not answer /health within 60 s");
}

let failed = false;
let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
try {
  // Inside the `try`: a worker that never answers or a browser that cannot start still
  // reaches the `finally` that stops wrangler dev.
  await waitForWorker();
  browser = await chromium.launch({
    executablePath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`${base}/docs`);
  await page.locator(".swagger-ui .info .title").filter({ hasText: "GrandScale API" }).waitFor({ timeout: 30_000 });
  const operations = await page.locator(".opblock").count();
  mkdirSync(resolve(root, "dist"), { recursive: true });
  await page.screenshot({ path: resolve(root, "dist/docs.png"), fullPage: true });
  if (operations === 0 || errors.length > 0) throw new Error(`rendered ${operations} operations; page errors: ${errors.join("; ")}`);
  console.log(`/docs rendered the reference with ${operations} operations (screenshot: dist/docs.png)`);
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  await browser?.close().catch(() => {});
  stopWorker();
}
process.exit(failed ? 1 : 0);
