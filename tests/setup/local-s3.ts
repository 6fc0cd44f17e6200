import { env } from "cloudflare:test";

// A test-only binding (vitest.config.mts), so not part of the Worker's typed Env.
const gateway = (env as unknown as { LOCAL_S3_GATEWAY: Fetcher }).LOCAL_S3_GATEWAY;

// Before each test file: tell this file's S3 gateway where its Miniflare listens (see local-s3-gateway.ts).
await gateway.fetch("http://local-s3-gateway/attach", { method: "POST" });
