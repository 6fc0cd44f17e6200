import { z } from "zod";

const flag = z.enum(["true", "false"]).transform((value) => value === "true");

const binding = <T>(name: string, method: string) =>
  z.custom<T>((value) => typeof value === "object" && value !== null && method in value, {
    message: `must be a ${name} binding`,
  });

const postgresUrl = z
  .string({ message: "is required" })
  .regex(/^postgres(ql)?:\/\/[^/]+\/.+/, "must be a postgres:// connection string with a database name");

/**
 * Every variable, secret and binding the Worker reads, checked once per isolate at the
 * top of `fetch` and `queue`. Production values come from wrangler.toml `[vars]` and
 * `wrangler secret put`; locally from `.dev.vars` (see `.dev.vars.example`).
 */
export const envSchema = z.object({
  APP_ENV: z.enum(["production", "staging", "development", "test"]),
  DATABASE_URL: postgresUrl,
  /** Local only: the dev/test Neon gateway. Unset in production, where the driver talks to Neon. */
  NEON_GATEWAY_URL: z.url({ message: "must be an http(s) URL" }).optional(),
  CORS_ORIGINS: z
    .string()
    .default("")
    .transform((value) => value.split(",").map((origin) => origin.trim()).filter(Boolean)),
  SERVER_TIMING: flag.default(false),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  JWT_ISSUER: z.string().min(1),
  JWT_AUDIENCE: z.string().min(1),
  /**
   * Secret: a JSON array of private ES256 JWKs, each with a `kid`. The first signs new
   * access tokens; all of them verify, so a key can be rotated in before the old one
   * is removed. `npm run keys:generate` prints a fresh key.
   */
  JWT_SIGNING_KEYS: z
    .string({ message: "is required (a JSON array of ES256 private JWKs)" })
    .transform((value, context) => {
      try {
        return JSON.parse(value) as unknown;
      } catch {
        context.addIssue({ code: "custom", message: "must be a JSON array of JWKs" });
        return z.NEVER;
      }
    })
    .pipe(
      z
        .array(z.looseObject({ kid: z.string().min(1), kty: z.literal("EC"), crv: z.literal("P-256"), d: z.string().min(1) }))
        .min(1, "must hold at least one key"),
    ),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  LOGIN_LIMITER: binding<RateLimit>("rate limiter", "limit"),
  REGISTER_LIMITER: binding<RateLimit>("rate limiter", "limit"),
  R2_BUCKET_NAME: z.string().min(1),
  FILES: binding<R2Bucket>("R2 bucket", "createMultipartUpload"),
  PARSE_QUEUE: binding<Queue>("queue producer", "sendBatch"),
  EXPORT_QUEUE: binding<Queue>("queue producer", "sendBatch"),
  ASSETS: binding<Fetcher>("static assets", "fetch"),
});

export type Config = z.infer<typeof envSchema>;
export type Bindings = z.input<typeof envSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

const parsed = new WeakMap<object, Config>();

/** Validates the environment once per isolate; a bad setting is named in one error. */
export function loadConfig(env: Record<string, unknown>): Config {
  const cached = parsed.get(env);
  if (cached) return cached;
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  parsed.set(env, result.data);
  return result.data;
}
