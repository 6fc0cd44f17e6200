/**
 * Where the API Worker's CPU goes per request (issue 20: "a CPU profile of the request
 * path shows where the rest goes"). V8's sampling profiler, over the inspector of the
 * isolate that serves the requests (`Profiler.start` … `Profiler.stop`, one sample every
 * 100 µs), while one connection sends an endpoint's requests for a few seconds. Each
 * sample's function is mapped through the bundle's source map to the file it came from,
 * and the time is added up by where that file lives: an npm package (zod, hono,
 * drizzle-orm, @neondatabase/serverless, …), a folder of ours (src/lib, a feature), V8's
 * built-ins (JSON, RegExp, …, which have no file), the garbage collector, and
 * "(program)" (V8 and workerd native code outside any JavaScript function: the HTTP
 * server, the socket to the database, compiling). Time the isolate spent waiting is left
 * out. What the profile does not see: workerd's own native work for the request (its
 * HTTP server, the subrequest's I/O, log lines, Durable Object storage), for which
 * BENCHMARKS.md has a `perf` profile of the whole process.
 *
 * The raw profiles are kept in bench/results/profiles/ (`<endpoint>.cpuprofile`, which
 * Chrome DevTools' Performance panel opens), with the bundle's source map beside them.
 *
 * It runs in an isolate of its own after the measured runs: a profiler slows what it
 * samples, so none of the load figures come from a profiled isolate.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { SourceMapConsumer, type RawSourceMap } from "source-map-js";
import { openInspector } from "./inspector.ts";

type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame };
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

export type ProfileShare = { name: string; ms_per_request: number; share: number };

export type ProfileSummary = {
  requests: number;
  /** Time the isolate ran JavaScript or V8 per request, as sampled (waits excluded, see MAX_SAMPLE_US). */
  ms_per_request: number;
  /** By package, folder of ours, or kind of native time; largest first. */
  by_source: ProfileShare[];
  /** The functions with the most self time (name and original file:line). */
  top_functions: ProfileShare[];
};

const SAMPLING_INTERVAL_US = 100;
/**
 * The most a sample stands for (see below). Asked for one every 100 µs, V8 takes one
 * about every 200 µs while the isolate runs (the median gap); a gap much longer than
 * that is a wait.
 */
const MAX_SAMPLE_US = 250;

export const PROFILE_DIR = resolve(import.meta.dirname, "../../bench/results/profiles");

/** Where a bundle position came from: "zod", "src/lib", "src/features/annotations", … */
function sourceGroup(source: string): string {
  const packageName = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source)?.[1];
  if (packageName) return packageName;
  const ours = /(?:^|\/)src\/(features\/[^/]+|[^/]+)/.exec(source)?.[1];
  return ours ? `src/${ours.replace(/\.ts$/, "")}` : source;
}

function placer(bundleDir: string, main: string) {
  const map = new SourceMapConsumer(JSON.parse(readFileSync(join(bundleDir, `${main}.map`), "utf8")) as RawSourceMap);
  return (frame: CallFrame): { group: string; where: string } => {
    if (frame.url === "") {
      const native = frame.functionName;
      if (native === "(garbage collector)" || native === "(program)") return { group: native, where: "" };
      return { group: "V8 built-ins", where: "" };
    }
    // Other scripts in the isolate (workerd's own modules, Miniflare's bindings) are named by their URL.
    if (frame.url !== main && !frame.url.endsWith(`/${main}`)) return { group: frame.url, where: "" };
    const position = map.originalPositionFor({ line: frame.lineNumber + 1, column: frame.columnNumber });
    if (!position.source) return { group: frame.url, where: "" };
    const file = position.source.replace(/^.*?\/?(?=(src|node_modules)\/)/, "");
    return { group: sourceGroup(file), where: `${file}:${position.line}` };
  };
}

function top(totals: Map<string, number>, requests: number, all: number, count: number): ProfileShare[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, ms_per_request: us / 1000 / requests, share: us / all }));
}

/** Profiles the isolate while `work` runs; `work` answers how many requests it completed. */
export async function profileWhile(
  options: { inspectorUrl: URL; workerName: string; bundleDir: string; main: string; /** Where to keep the raw profile (Chrome DevTools opens it). */ saveTo: string },
  work: () => Promise<number>,
): Promise<ProfileSummary> {
  const session = await openInspector(options.inspectorUrl, options.workerName);
  try {
    await session.call("Profiler.enable");
    await session.call("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
    await session.call("Profiler.start");
    const requests = await work();
    const { profile } = (await session.call("Profiler.stop")).result as { profile: CpuProfile };
    await session.call("Profiler.disable");
    mkdirSync(dirname(options.saveTo), { recursive: true });
    writeFileSync(options.saveTo, JSON.stringify(profile));

    const place = placer(options.bundleDir, options.main);
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const selfUs = new Map<number, number>();
    // timeDeltas[i] is the time from sample i-1 to sample i: the time sample i-1 stood for,
    // up to MAX_SAMPLE_US. A longer gap is time the isolate was not running at all (it
    // waited on a subrequest or the next request): workerd does not tell V8 it is idle, so
    // uncapped, a wait is charged to the function that started it (fetch, console.log).
    for (let i = 0; i + 1 < profile.samples.length; i++) {
      const id = profile.samples[i]!;
      selfUs.set(id, (selfUs.get(id) ?? 0) + Math.min(MAX_SAMPLE_US, Math.max(0, profile.timeDeltas[i + 1]!)));
    }
    const bySource = new Map<string, number>();
    const byFunction = new Map<string, number>();
    let all = 0;
    for (const [id, us] of selfUs) {
      const frame = nodes.get(id)!.callFrame;
      if (frame.functionName === "(idle)" || frame.functionName === "(root)") continue;
      const { group, where } = place(frame);
      all += us;
      bySource.set(group, (bySource.get(group) ?? 0) + us);
      const name = `${frame.functionName || "(anonymous)"}${where ? ` (${where})` : group === "V8 built-ins" ? " (V8 built-in)" : ""}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    }
    const perRequest = Math.max(1, requests);
    return {
      requests,
      ms_per_request: all / 1000 / perRequest,
      by_source: top(bySource, perRequest, all || 1, 12),
      top_functions: top(byFunction, perRequest, all || 1, 12),
    };
  } finally {
    session.close();
  }
}
