/**
 * The c=1 profiles of the API bench's endpoints (api-bench.ts), in a runtime of its own
 * after the measured runs, so that no load figure comes from a profiled process: each
 * endpoint a few seconds under V8's sampling profiler (profile.ts: the isolate's
 * JavaScript by package), then as long again under `perf` where it runs (perf-profile.ts:
 * the whole workerd process by kind of work).
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Bundle } from "./bundle.ts";
import { runLoad, warmUp, type LoadSpec } from "./load.ts";
import { perfAvailable, perfWhile, type PerfSummary } from "./perf-profile.ts";
import { PROFILE_DIR, profileWhile, type ProfileSummary } from "./profile.ts";
import { apiWorker, backgroundWorker, startRuntime, type BenchBindings } from "./runtime.ts";

export type ProfiledEndpoint = {
  key: string;
  label: string;
  /** Where the summaries go. */
  report: { profile: ProfileSummary | null; perf: PerfSummary | null };
  /** The endpoint's c=1 load against the profiled Worker's URL. */
  spec: (url: URL) => LoadSpec;
};

const percent = (share: number) => `${(share * 100).toFixed(0)}%`;

export async function profileEndpoints(options: { bundle: Bundle; bindings: BenchBindings; endpoints: ProfiledEndpoint[]; log: (line: string) => void }) {
  const { bundle, bindings, endpoints, log } = options;
  const runtime = await startRuntime([apiWorker(bundle, "api-profiled", bindings), backgroundWorker(bundle.background, bindings, { queueConsumers: false })], { inspector: true });
  try {
    const url = await runtime.url("api-profiled");
    const inspectorUrl = await runtime.mf.getInspectorURL();
    const withPerf = perfAvailable();
    if (!withPerf) log("  perf is not available here (or may not profile this user): the native profile is skipped");
    mkdirSync(PROFILE_DIR, { recursive: true });
    copyFileSync(join(bundle.dir, `${bundle.main}.map`), join(PROFILE_DIR, `${bundle.main}.map`));
    for (const endpoint of endpoints) {
      const spec = endpoint.spec(url);
      const load = async () => (await runLoad(spec)).requests;
      await warmUp(spec);
      const saveTo = join(PROFILE_DIR, `${endpoint.key}.cpuprofile`);
      const profile = await profileWhile({ inspectorUrl, workerName: "api-profiled", bundleDir: bundle.dir, main: bundle.main, saveTo }, load);
      endpoint.report.profile = profile;
      const sources = profile.by_source.slice(0, 4).map((share) => `${share.name} ${percent(share.share)}`).join(", ");
      log(`  profile ${endpoint.label}: ${profile.ms_per_request.toFixed(2)} ms of JavaScript per request sampled (${sources})`);
      if (!withPerf || !runtime.pid) continue;
      const perf = await perfWhile(runtime.pid, join(PROFILE_DIR, `${endpoint.key}.perf.data`), spec.durationSeconds, load).catch((error: unknown) => {
        log(`  perf ${endpoint.label}: failed (${String(error).slice(0, 160)}); the native profile is left out`);
        return null;
      });
      if (!perf) continue;
      endpoint.report.perf = perf;
      const categories = perf.by_category.slice(0, 3).map((share) => `${share.name} ${percent(share.share)}`).join(", ");
      log(`  perf ${endpoint.label}: ${perf.ms_per_request.toFixed(2)} ms of workerd CPU per request (${categories})`);
    }
  } finally {
    await runtime.dispose();
  }
}
