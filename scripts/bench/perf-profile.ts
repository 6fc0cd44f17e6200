/**
 * Where the whole workerd process's CPU goes per request, native code included: Linux
 * `perf record -g` on the runtime's process while one connection sends an endpoint's
 * requests. The V8 profile (profile.ts) sees only JavaScript inside the isolate; most of
 * what a request costs workerd is outside it (its HTTP server, promise and I/O plumbing,
 * the subrequest to the database, Durable Objects the request wakes, garbage
 * collection), and that is where the API's CPU above its floor goes.
 *
 * Each sample's stack is read from the leaf towards the root, and the first frame that
 * says what the work is for decides its category; frames that only serve others
 * (malloc, memcpy, the kernel) are looked through. Machines without `perf`, or where
 * the kernel does not let this user profile, skip it (the report says so).
 */
import { spawn, spawnSync } from "node:child_process";

export type PerfShare = { name: string; ms_per_request: number; share: number };
export type PerfSummary = { requests: number; hz: number; ms_per_request: number; by_category: PerfShare[] };

const HZ = 1999;

/** Leaf first: the first frame one of these patterns matches decides the category. */
const SPECIFIC: [string, RegExp][] = [
  ["garbage collection", /Heap::CollectGarbage|Scavenge|MarkCompact|ConcurrentMarking|IncrementalMarking|MinorMarkSweep|cppgc::internal::(Sweeper|Marker)/],
  ["compiling JavaScript", /v8::internal::(Compiler|Parser|PreParser|Scanner|maglev|compiler::|baseline::)|Builtins_CompileLazy/],
  ["Durable Objects (Miniflare's rate limiter, which every request calls; the webhook dispatcher a write wakes; their SQLite storage)", /DurableObject|ActorCache|ActorCallRetryState|SqlStorage|sqlite3|runAlarm|JsRpcTarget|workerd::rpc::/],
  ["JSON", /JsonParser|JsonStringifier|Builtins_Json/],
  ["WebCrypto (token signatures)", /SubtleCrypto|ecp_nistz256|EVP_|HMAC|SHA256|ECDSA|EC_POINT|bssl|BN_/],
  ["the subrequest to the database (fetch)", /workerd::api::fetchImpl|fetchImplNoOutputLock|HttpClientImpl|NetworkHttpClient|kj::HttpClient/],
  ["JavaScript (JIT-compiled code)", /^\[unknown\]$|^\[JIT\]/],
  ["JavaScript (V8 built-ins and runtime)", /^Builtins_|v8::internal::Runtime_|v8::internal::Builtin_|v8::internal::(Object|JSObject|JSReceiver|String|Factory|Map|LookupIterator)/],
  ["incoming HTTP (workerd's server, Request and Response objects)", /kj::HttpServer|HttpInputStream|HttpOutputStream|workerd::api::(Request|Response|Headers)\b/],
];

/** A stack none of those name: what remains of workerd and V8 is their own machinery. */
const RUNTIME: [string, RegExp] = ["workerd runtime (promises, I/O contexts, locks, JS wrappers)", /workerd::|kj::|capnp::|v8::/];

/** Frames that do work for whoever called them: their caller says what for. */
const PASS_THROUGH = /tcmalloc|malloc|free|memmove|memcpy|memset|^__|^\[k\]|pthread|absl::|epoll_wait/;

export function perfAvailable(): boolean {
  const probe = spawnSync("perf", ["record", "-q", "-o", "/dev/null", "--", "true"], { stdio: "ignore" });
  return probe.status === 0;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "ignore"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(Buffer.concat(chunks).toString("utf8")) : reject(new Error(`${command} exited ${code}`))));
  });
}

function categoryOf(frames: { sym: string; kernel: boolean }[]): string {
  const own = frames.filter((frame) => !frame.kernel && !PASS_THROUGH.test(frame.sym));
  for (const frame of own) for (const [name, pattern] of SPECIFIC) if (pattern.test(frame.sym)) return name;
  if (own.some((frame) => RUNTIME[1].test(frame.sym))) return RUNTIME[0];
  return frames.some((frame) => frame.sym.includes("epoll_wait")) ? "waiting for I/O (epoll, kernel)" : "other (the Rust I/O layer, libc)";
}

/** `perf script` text: one block per sample, a header line then one line per frame, leaf first. */
function categorise(script: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const block of script.split(/\n\s*\n/)) {
    const frames = block
      .split("\n")
      .slice(1)
      .map((line) => /^\s*[0-9a-f]+\s+(.*?)\s+\(([^)]*)\)\s*$/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => ({ sym: match[1] === "[unknown]" && /perf-\d+\.map|\[JIT\]/.test(match[2]!) ? "[JIT]" : match[1]!, kernel: match[2] === "[kernel.kallsyms]" }));
    if (frames.length === 0) continue;
    const category = categoryOf(frames);
    counts.set(category, (counts.get(category) ?? 0) + 1);
  }
  return counts;
}

/** Records `pid` while `work` runs (which answers how many requests it completed), then sorts the samples. */
export async function perfWhile(pid: number, outFile: string, seconds: number, work: () => Promise<number>): Promise<PerfSummary> {
  const recording = run("perf", ["record", "-q", "-F", String(HZ), "-g", "-p", String(pid), "-o", outFile, "--", "sleep", String(seconds)]);
  const requests = await work();
  await recording;
  const counts = categorise(await run("perf", ["script", "-i", outFile, "-F", "comm,tid,ip,sym,dso"]));
  const total = [...counts.values()].reduce((sum, count) => sum + count, 0) || 1;
  const perRequest = (samples: number) => (samples / HZ) * 1000 / Math.max(1, requests);
  return {
    requests,
    hz: HZ,
    ms_per_request: perRequest(total),
    by_category: [...counts].sort((a, b) => b[1] - a[1]).map(([name, samples]) => ({ name, ms_per_request: perRequest(samples), share: samples / total })),
  };
}
