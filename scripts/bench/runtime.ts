/**
 * The production bundle in workerd, through Miniflare's API (the library `wrangler dev`
 * itself drives). Why this way and not `wrangler dev`:
 *
 * - it runs the file `wrangler deploy --dry-run` wrote, byte for byte, not a dev build;
 * - the bindings come from wrangler.toml through wrangler's own converter
 *   (`unstable_getMiniflareWorkerOptions`), so R2, Queues, rate limiters and assets are
 *   configured as `wrangler dev` configures them;
 * - each Worker gets its own socket (`unsafeDirectSockets`), so requests reach it
 *   without wrangler's dev proxy in between, whose cost production does not have;
 * - one process can host the API, its sampling twin and the floor Worker side by side,
 *   and the bench can reach R2 and Queues (getR2Bucket, getQueueProducer), workerd's
 *   pid (peak RSS) and the V8 inspector (isolate heap) directly.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import type { BuiltBundle } from "./bundle.ts";
import { processes } from "./cpu.ts";

const WRANGLER_CONFIGS = {
  api: resolve(import.meta.dirname, "../../wrangler.toml"),
  background: resolve(import.meta.dirname, "../../wrangler.background.toml"),
};
/** The background Worker's name (wrangler.background.toml): the API binds its WebhookDispatcher by this script_name. */
export const BACKGROUND_WORKER = "grandscale-background";

/** What the bench sets on top of wrangler.toml's [vars] (production values otherwise). */
export type BenchBindings = Record<string, string>;

const wranglerOptions = new Map<string, ReturnType<typeof unstable_getMiniflareWorkerOptions>>();

function fromWranglerToml(worker: keyof typeof WRANGLER_CONFIGS = "api") {
  // wrangler warns that local_dev S3 credentials are experimental on every read; the bench knows.
  process.env.WRANGLER_LOG ??= "error";
  const config = WRANGLER_CONFIGS[worker];
  if (!wranglerOptions.has(config)) wranglerOptions.set(config, unstable_getMiniflareWorkerOptions(config));
  // The bundle is one ES module already; module rules only apply to unbundled sources.
  const { modulesRules: _modulesRules, ...options } = wranglerOptions.get(config)!.workerOptions as V4WorkerOptions & { modulesRules?: unknown };
  return options as V4WorkerOptions & { bindings?: Record<string, unknown> };
}

/** The local S3 credentials wrangler.toml gives the R2 bucket (`local_dev.experimental_s3_credentials`). */
export function localR2Credentials(): { accessKeyId: string; secretAccessKey: string } | null {
  const buckets = (fromWranglerToml() as { r2Buckets?: Record<string, { s3Credentials?: { accessKeyId: string; secretAccessKey: string } }> }).r2Buckets;
  return Object.values(buckets ?? {}).find((bucket) => bucket.s3Credentials)?.s3Credentials ?? null;
}

type QueueConsumers = Record<string, { maxBatchTimeout?: number } & Record<string, unknown>>;

/**
 * The bench's own per-caller API limit, far above anything a load run sends in a
 * minute: wrangler.toml's API_LIMITER (600 per 60 s per caller) would turn a run into a
 * measurement of 429s. Sign-in and sign-up keep wrangler.toml's limits.
 */
const BENCH_API_LIMIT = 1_000_000_000;

/** The API Worker: the production bundle with wrangler.toml's bindings plus the bench's. It only produces messages. */
export function apiWorker(bundle: BuiltBundle, name: string, bindings: BenchBindings): V4WorkerOptions {
  const base = fromWranglerToml("api");
  const { ratelimits, ...rest } = base as typeof base & { ratelimits?: Record<string, unknown> };
  return {
    ...rest,
    ratelimits: { ...ratelimits, API_LIMITER: { namespace_id: "1003", simple: { limit: BENCH_API_LIMIT, period: 60 } } },
    name,
    modules: true,
    scriptPath: resolve(bundle.dir, bundle.main),
    modulesRoot: bundle.dir,
    bindings: { ...base.bindings, ...bindings },
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  } as V4WorkerOptions;
}

/**
 * The background Worker (wrangler.background.toml): its production bundle with its
 * bindings plus the bench's, named as the API's `script_name` binding expects. Without
 * `queueConsumers` it only runs the webhook dispatcher the API's writes wake;
 * `immediateDelivery` sets every consumer's batch window to 0 s.
 */
export function backgroundWorker(bundle: BuiltBundle, bindings: BenchBindings, options: { queueConsumers: boolean; immediateDelivery?: boolean }): V4WorkerOptions {
  const base = fromWranglerToml("background");
  const { queueConsumers, ...rest } = base as typeof base & { queueConsumers?: QueueConsumers };
  const consumers = options.immediateDelivery
    ? Object.fromEntries(Object.entries(queueConsumers ?? {}).map(([queue, consumer]) => [queue, { ...consumer, maxBatchTimeout: 0 }]))
    : queueConsumers;
  return {
    ...rest,
    ...(options.queueConsumers ? { queueConsumers: consumers } : {}),
    name: BACKGROUND_WORKER,
    modules: true,
    scriptPath: resolve(bundle.dir, bundle.main),
    modulesRoot: bundle.dir,
    bindings: { ...base.bindings, ...bindings },
  } as V4WorkerOptions;
}

/**
 * A stand-in for the background Worker that only takes the API's wake-up calls (its
 * WebhookDispatcher's `signal()`), for runs that measure the API alone (isolate startup):
 * the API's WEBHOOK_DISPATCHER binding needs a Worker of that name.
 */
export function dispatcherStandIn(): V4WorkerOptions {
  const script = `import { DurableObject } from "cloudflare:workers";
    export class WebhookDispatcher extends DurableObject { async signal() {} }
    export default { fetch() { return new Response(null, { status: 404 }); } };`;
  const { durableObjects } = fromWranglerToml("background") as { durableObjects?: Record<string, unknown> };
  return { ...scriptWorker(BACKGROUND_WORKER, script), durableObjects, unsafeDirectSockets: undefined } as V4WorkerOptions;
}

/** wrangler.background.toml's max_batch_timeout for the queue whose name ends with `-<role>` (its batch window). */
export function configuredBatchWindowSeconds(role: "parse" | "export"): number | null {
  const { queueConsumers } = fromWranglerToml("background") as { queueConsumers?: QueueConsumers };
  const entry = Object.entries(queueConsumers ?? {}).find(([queue]) => queue.endsWith(`-${role}`));
  return entry ? (entry[1].maxBatchTimeout ?? null) : null;
}

/** A Worker from an ES module string (the floor, the empty Worker of the startup baseline). */
export function scriptWorker(name: string, script: string, bindings: BenchBindings = {}): V4WorkerOptions {
  const base = fromWranglerToml() as { compatibilityDate?: string; compatibilityFlags?: string[] };
  return {
    name,
    modules: true,
    script,
    compatibilityDate: base.compatibilityDate,
    compatibilityFlags: base.compatibilityFlags,
    bindings,
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  } as V4WorkerOptions;
}

/**
 * A helper Worker bound to the same R2 bucket that stores a request body under the
 * path's key: the bench streams a 1 GB file into the local R2 through it in one PUT
 * (Miniflare's getR2Bucket() proxy moves a few MB/s and wants a known length).
 */
export function r2LoaderWorker(name: string): V4WorkerOptions {
  const { r2Buckets } = fromWranglerToml() as { r2Buckets?: Record<string, unknown> };
  const binding = Object.keys(r2Buckets ?? {})[0];
  if (!binding) throw new Error("wrangler.toml binds no R2 bucket");
  const script = `export default {
    async fetch(request, env) {
      const key = decodeURIComponent(new URL(request.url).pathname.slice(1));
      const object = await env[${JSON.stringify(binding)}].put(key, request.body, { httpMetadata: { contentType: request.headers.get("content-type") ?? undefined } });
      return Response.json({ key, size: object.size });
    },
  };`;
  return { ...scriptWorker(name, script), r2Buckets } as V4WorkerOptions;
}

export type Runtime = {
  mf: Miniflare;
  /** The Worker's own socket. */
  url(name: string): Promise<URL>;
  /** workerd's process id (for /proc/<pid>/status). */
  pid: number | null;
  /** Worker log lines at warn level or above, for the report when something fails. */
  problems: string[];
  /** How many log lines contained each of the `countLogLines` strings. */
  logLineCounts: Map<string, number>;
  dispose(): Promise<void>;
};

function workerdChildren(): Set<number> {
  const pids = new Set<number>();
  for (const running of processes()) if (running.ppid === process.pid && running.comm === "workerd") pids.add(running.pid);
  return pids;
}

export async function startRuntime(
  workers: V4WorkerOptions[],
  options: { persistDir?: string; inspector?: boolean; countLogLines?: string[] } = {},
): Promise<Runtime> {
  const before = workerdChildren();
  const problems: string[] = [];
  const logLineCounts = new Map((options.countLogLines ?? []).map((text) => [text, 0]));
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      // No request.cf lookup (it would go to the internet).
      cf: {},
      ...(options.inspector ? { inspectorPort: 0 } : {}),
      ...(options.persistDir ? { resourcePersistencePath: options.persistDir } : {}),
      // The Worker logs every request as production does; the lines are dropped here
      // (printing them would cost the load generator's process), problems are kept.
      handleStructuredLogs: (log: { level?: string; message?: string }) => {
        for (const [text, count] of logLineCounts) if (log.message?.includes(text)) logLineCounts.set(text, count + 1);
        if ((log.level === "error" || log.level === "warn") && problems.length < 50) problems.push(String(log.message));
      },
      workers,
    } as Parameters<typeof convertV4MiniflareOptions>[0]),
  );
  await mf.ready;
  const pid = [...workerdChildren()].find((candidate) => !before.has(candidate)) ?? null;
  return {
    mf,
    url: (name) => mf.unsafeGetDirectURL(name),
    pid,
    problems,
    logLineCounts,
    dispose: () => mf.dispose(),
  };
}

/** Peak and current resident set size of a process, from /proc (kB → bytes). */
export function processMemory(pid: number): { peak_rss_bytes: number; rss_bytes: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
    return { peak_rss_bytes: field("VmHWM"), rss_bytes: field("VmRSS") };
  } catch {
    return null;
  }
}
