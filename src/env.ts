import { z } from "zod";
import { LOG_LEVELS } from "./lib/logger.ts";

const flag = z.enum(["true", "false"]).transform((value) => value === "true");

const binding = <T>(name: string, method: string) =>
  z.custom<T>((value) => typeof value === "object" && value !== null && method in value, {
    message: `must be a ${name} binding`,
  });

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** R2's limits: one PUT carries at most 5 GiB; an object (multipart) at most 5 TiB. */
export const R2_MAX_SINGLE_PUT_BYTES = 5 * GIB;
export const R2_MAX_OBJECT_BYTES = 5 * 1024 * GIB;
/** Presigned URLs live at most 7 days (SigV4's own limit). */
export const MAX_PRESIGNED_TTL_SECONDS = 7 * 24 * 3600;

/** What the parser reads (features/parsing/formats.ts): CSV/TSV, JSON, JSON Lines, XLSX, PDF, text, Markdown. */
export const DEFAULT_UPLOAD_CONTENT_TYPES = [
  "text/csv",
  "application/csv",
  "text/x-csv",
  "text/comma-separated-values",
  "application/vnd.ms-excel",
  "text/tab-separated-values",
  "application/json",
  "text/json",
  "application/x-ndjson",
  "application/ndjson",
  "application/jsonl",
  "application/x-jsonlines",
  "application/jsonlines",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/pdf",
  "text/plain",
  "text/markdown",
  "text/x-markdown",
];

const byteSize = (minimum: number, maximum: number, fallback: number) =>
  z.coerce.number().int().min(minimum).max(maximum).default(fallback);

const postgresUrl = z
  .string({ message: "is required" })
  .regex(/^postgres(ql)?:\/\/[^/]+\/.+/, "must be a postgres:// connection string with a database name");

/**
 * What both Workers read (README "Two Workers"): the database, R2, the queues, webhooks and
 * drafting. The background Worker (src/background.ts, wrangler.background.toml) reads only
 * this; the API Worker reads it and `envSchema`'s own settings.
 */
const sharedEnvShape = {
  APP_ENV: z.enum(["production", "staging", "development", "test"]),
  DATABASE_URL: postgresUrl,
  /** Local only: the dev/test Neon gateway. Unset in production, where the driver talks to Neon. */
  NEON_GATEWAY_URL: z.url({ message: "must be an http(s) URL" }).optional(),
  SERVER_TIMING: flag.default(false),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  R2_BUCKET_NAME: z.string().min(1),
  DOWNLOAD_URL_TTL_SECONDS: z.coerce.number().int().min(10).max(MAX_PRESIGNED_TTL_SECONDS).default(300),
  /**
   * Drafting by a model (features/drafts/): an OpenAI-compatible API's base URL, without
   * `/chat/completions` — in production Workers AI's, `https://api.cloudflare.com/client/v4/accounts/<id>/ai/v1`.
   * Unset: POST …/drafts answers 503. LLM_API_KEY (a secret) is sent as the Bearer token.
   */
  LLM_BASE_URL: z
    .url({ protocol: /^https?$/, message: "must be an http(s) URL" })
    .transform((value) => value.replace(/\/+$/, ""))
    .optional(),
  LLM_API_KEY: z.string().min(1).optional(),
  LLM_MODEL: z.string().min(1).default("@cf/meta/llama-3.3-70b-instruct-fp8-fast"),
  /** How long one chat-completions call may take before it counts as failed (and is retried). */
  LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
  /** The most rows one drafting run covers: a larger range stops there. */
  DRAFT_MAX_ROWS: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  /** Rows per chat-completions call. */
  DRAFT_BATCH_ROWS: z.coerce.number().int().min(1).max(200).default(20),
  FILES: binding<R2Bucket>("R2 bucket", "createMultipartUpload"),
  PARSE_QUEUE: binding<Queue>("queue producer", "sendBatch"),
  EXPORT_QUEUE: binding<Queue>("queue producer", "sendBatch"),
  DRAFT_QUEUE: binding<Queue>("queue producer", "sendBatch"),
  VALIDATION_QUEUE: binding<Queue>("queue producer", "sendBatch"),
  /**
   * Webhooks (README "Webhooks"). Secret: 32 random bytes, base64, the AES-GCM key the
   * endpoints' signing secrets are encrypted with at rest. Unset: webhook creation 503.
   */
  WEBHOOK_SECRET_KEY: z
    .string()
    .refine((value) => { try { return atob(value).length === 32; } catch { return false; } }, "must be 32 bytes, base64")
    .optional(),
  /** Development only: lets webhooks point at http and loopback or private hosts (npm run dev, tests). */
  WEBHOOK_ALLOW_INSECURE: flag.default(false),
  /** How long one delivery attempt waits for the endpoint's answer. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(10_000),
  WEBHOOK_QUEUE: binding<Queue>("queue producer", "sendBatch"),
  /** The outbox's runner (features/webhooks/webhook-dispatcher.ts), one per deployment. */
  WEBHOOK_DISPATCHER: binding<DurableObjectNamespace>("Durable Object namespace", "idFromName"),
  /**
   * Whether writes wake the dispatcher (webhook-signal.ts). Off, deliveries start at the
   * every-minute cron; the tests turn it off so that they run the dispatcher themselves.
   */
  WEBHOOK_DISPATCH_SIGNAL: flag.default(true),
};

/**
 * Every variable, secret and binding the API Worker reads, checked once per isolate at the
 * top of `fetch`. Production values come from wrangler.toml `[vars]` and
 * `wrangler secret put`; locally from `.dev.vars` (see `.dev.vars.example`).
 */
export const envSchema = z.object({
  ...sharedEnvShape,
  CORS_ORIGINS: z
    .string()
    .default("")
    .transform((value) => value.split(",").map((origin) => origin.trim()).filter(Boolean)),
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
  /** Every authenticated request, per user or API token (middleware/rate-limit.ts). */
  API_LIMITER: binding<RateLimit>("rate limiter", "limit"),
  /**
   * R2's S3 API endpoint without the bucket; presigned URLs are path-style
   * `<R2_S3_ENDPOINT>/<R2_BUCKET_NAME>/<key>`. Production:
   * `https://<account_id>.r2.cloudflarestorage.com`; locally the endpoint wrangler dev
   * serves for the FILES binding, `http://127.0.0.1:8787/cdn-cgi/local/r2/s3`. Unset
   * (with the two keys) means uploads and downloads answer 503; the rest works.
   */
  R2_S3_ENDPOINT: z
    .url({ protocol: /^https?$/, message: "must be an http(s) URL" })
    .refine((value) => !/[?#]/.test(value), "must not carry a query or fragment")
    .transform((value) => value.replace(/\/+$/, ""))
    .optional(),
  /** Secrets: an R2 API token's S3 credentials (Object Read & Write on the bucket). */
  R2_ACCESS_KEY_ID: z.string().min(1).optional(),
  R2_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  UPLOAD_URL_TTL_SECONDS: z.coerce.number().int().min(60).max(MAX_PRESIGNED_TTL_SECONDS).default(3600),
  /** Above this size an upload is multipart. At least R2's 5 MiB minimum part, at most one PUT's 5 GiB. */
  MULTIPART_THRESHOLD_BYTES: byteSize(5 * MIB, R2_MAX_SINGLE_PUT_BYTES, 100 * MIB),
  /** The largest file one upload may declare (413 above it). */
  MAX_UPLOAD_BYTES: byteSize(1, R2_MAX_OBJECT_BYTES, 5 * GIB),
  /** Comma-separated media types an upload may declare (parameters such as `; charset=` are ignored). */
  UPLOAD_CONTENT_TYPES: z
    .string()
    .default(DEFAULT_UPLOAD_CONTENT_TYPES.join(","))
    .transform((value) => value.split(",").map((type) => type.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/, "must be type/subtype")).min(1, "must name at least one type")),
  /**
   * Upload quotas per organization (features/uploads/upload-quotas.ts), the defaults for
   * organizations without their own (organization.quota_* columns). 0 refuses every upload.
   * Open uploads: started, neither completed nor expired (429 at the limit).
   */
  QUOTA_OPEN_UPLOADS: z.coerce.number().int().min(0).max(1_000_000).default(100),
  /** Bytes declared by the uploads started in any 24 hours (429 with Retry-After above it). */
  QUOTA_UPLOAD_BYTES_PER_DAY: byteSize(0, Number.MAX_SAFE_INTEGER, 100 * GIB),
  /** Bytes of the versions of live files plus those reserved by open uploads (413 above it). */
  QUOTA_STORED_BYTES: byteSize(0, Number.MAX_SAFE_INTEGER, 1024 * GIB),
  ASSETS: binding<Fetcher>("static assets", "fetch"),
  /** The live event stream's hubs, one per organization (features/events/event-hub.ts). */
  EVENT_HUB: binding<DurableObjectNamespace>("Durable Object namespace", "idFromName"),
}).superRefine((config, context) => {
  const storage = ["R2_S3_ENDPOINT", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"] as const;
  const missing = storage.filter((name) => config[name] === undefined);
  if (missing.length > 0 && missing.length < storage.length) {
    for (const name of missing) context.addIssue({ code: "custom", path: [name], message: `is required with ${storage.filter((other) => !missing.includes(other)).join(" and ")}` });
  }
});

/** The background Worker's environment: the shared settings only. */
export const backgroundEnvSchema = z.object(sharedEnvShape);

export type Config = z.infer<typeof envSchema>;
export type Bindings = z.input<typeof envSchema>;
export type SharedConfig = z.infer<typeof backgroundEnvSchema>;
export type SharedBindings = z.input<typeof backgroundEnvSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

const parsed = new WeakMap<object, WeakMap<object, unknown>>();

function parseEnv<T>(schema: z.ZodType<T>, env: Record<string, unknown>): T {
  let bySchema = parsed.get(env);
  if (!bySchema) parsed.set(env, (bySchema = new WeakMap()));
  const cached = bySchema.get(schema);
  if (cached) return cached as T;
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  bySchema.set(schema, result.data as object);
  return result.data;
}

/** The API Worker's settings, validated once per isolate; a bad setting is named in one error. */
export function loadConfig(env: Record<string, unknown>): Config {
  return parseEnv(envSchema, env);
}

/** The shared settings (the background Worker's, or the shared part of the API's), validated once per isolate. */
export function loadSharedConfig(env: Record<string, unknown>): SharedConfig {
  return parseEnv(backgroundEnvSchema, env);
}
