import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          APP_ENV: "test",
          SERVER_TIMING: "true",
          LOG_LEVEL: "warn",
          DATABASE_URL: inject("databaseUrl"),
          NEON_GATEWAY_URL: inject("gatewayUrl"),
          JWT_SIGNING_KEYS: inject("signingKeys"),
        },
      },
    })),
  ],
  test: {
    globalSetup: ["./tests/setup/global-setup.ts"],
    include: ["tests/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
