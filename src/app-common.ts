import type { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import type { AppEnv } from "./lib/types.ts";
import { requestContext } from "./middleware/request-context.ts";

/** What every answer goes through, the health checks' too: request context (id, config, database, access log) and CORS. */
export function applyCommonMiddleware(app: OpenAPIHono<AppEnv>) {
  app.use("*", requestContext);
  app.use(
    "*",
    cors({
      origin: (origin, c) => (c.get("config").CORS_ORIGINS.includes(origin) ? origin : null),
      allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "X-Request-Id"],
      allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
      exposeHeaders: ["ETag", "Idempotent-Replayed", "Retry-After", "Server-Timing", "X-Request-Id", "Location"],
      maxAge: 600,
    }),
  );
}
