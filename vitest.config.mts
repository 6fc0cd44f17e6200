import { cloudflareTest } from "@cloudflare/vitest-plugin";
import type { LegacyWorkerOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { defineConfig } from "vitest/config";
import { startLocalS3Gateway } from "./tests/setup/local-s3-gateway.ts";

const MIB = 1024 * 1024;

/**
 * The background Worker's queue consumers (wrangler.background.toml): the tests run both
 * Workers' entry points in one Worker (tests/setup/worker.ts), whose bindings are the API's
 * (wrangler.toml) plus these, and the dispatcher as its own class rather than the other
 * Worker's (`script_name`).
 */
function backgroundConsumers(): NonNullable<LegacyWorkerOptions["queueConsumers"]> {
  const { workerOptions } = unstable_getMiniflareWorkerOptions("./wrangler.background.toml");
  return (workerOptions as unknown as LegacyWorkerOptions).queueConsumers ?? {};
}

export default defineConfig({
  plugins: [
    cloudflareTest(async ({ inject }) => {
      // Presigned URLs must reach Miniflare's S3 endpoint over real HTTP: see local-s3-gateway.ts.
      const s3Gateway = await startLocalS3Gateway();
      return {
        wrangler: { configPath: "./wrangler.toml" },
        main: "./tests/setup/worker.ts",
        miniflare: {
          queueConsumers: backgroundConsumers(),
          durableObjects: {
            EVENT_HUB: { className: "EventHub", useSQLite: true },
            WEBHOOK_DISPATCHER: { className: "WebhookDispatcher", useSQLite: true },
          },
          bindings: {
            APP_ENV: "test",
            SERVER_TIMING: "true",
            LOG_LEVEL: "warn",
            DATABASE_URL: inject("databaseUrl"),
            NEON_GATEWAY_URL: inject("gatewayUrl"),
            JWT_SIGNING_KEYS: inject("signingKeys"),
            // The credentials of wrangler.toml's local_dev.experimental_s3_credentials.
            R2_S3_ENDPOINT: `${s3Gateway.origin}/cdn-cgi/local/r2/s3`,
            R2_ACCESS_KEY_ID: "local-access-key",
            R2_SECRET_ACCESS_KEY: "local-secret-key",
            // R2's smallest multipart: 5 MiB parts, so a three-part upload stays small in tests.
            MULTIPART_THRESHOLD_BYTES: String(5 * MIB),
            // Webhooks to the local receiver (tests/setup/webhook-receiver.ts): http on 127.0.0.1,
            // a fixed test key for the secrets at rest, and a short timeout for the timeout tests.
            WEBHOOK_ALLOW_INSECURE: "true",
            WEBHOOK_SECRET_KEY: "dGVzdC13ZWJob29rLXNlY3JldC1rZXktMzItYnl0ZXM=",
            WEBHOOK_TIMEOUT_MS: "1000",
            // The tests run the dispatcher themselves (tests/helpers/webhooks.ts); the test of the
            // wake-up path turns it on for its own requests.
            WEBHOOK_DISPATCH_SIGNAL: "false",
            // The local chat-completions API (tests/setup/chat-completions-server.ts).
            LLM_BASE_URL: inject("llmUrl"),
            LLM_API_KEY: "test-llm-key",
            LLM_MODEL: "test-model",
            LLM_TIMEOUT_MS: "1000",
            DRAFT_BATCH_ROWS: "4",
            DRAFT_MAX_ROWS: "12",
          },
          serviceBindings: {
            LOCAL_S3_GATEWAY: async (_request: Request, miniflare: { ready: Promise<URL> }) => {
              s3Gateway.attach(await miniflare.ready);
              return new Response(null, { status: 204 });
            },
          },
        },
      };
    }),
  ],
  test: {
    globalSetup: ["./tests/setup/global-setup.ts"],
    setupFiles: ["./tests/setup/local-s3.ts"],
    include: ["tests/**/*.test.ts"],
    testTimeout: 30_000,
    // tests/fuzz.test.ts: a short run in CI, `npm run fuzz -- --requests N --seed S` (scripts/fuzz.ts) for more.
    provide: { fuzzRequests: Number(process.env.FUZZ_REQUESTS) || 2000, fuzzSeed: process.env.FUZZ_SEED ?? "" },
    hookTimeout: 60_000,
  },
});
