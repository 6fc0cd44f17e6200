/**
 * Memory of a queue consumer while it works, two ways:
 *
 * - the isolate: V8's own account of the Worker's isolate (`Runtime.getHeapUsage` over
 *   the inspector: JS heap used + embedder heap + ArrayBuffer backing stores), sampled
 *   every 100 ms; the peak sample is what the 128 MB isolate limit is about. A spike
 *   shorter than the interval can be missed.
 * - the process: workerd's peak resident set size (VmHWM in /proc/<pid>/status) minus
 *   its resident size just before the work started. An upper bound: the same process
 *   also hosts Miniflare's R2 and Queues simulators and the runtime itself.
 */
import WebSocket from "ws";
import { processMemory, type Runtime } from "./runtime.ts";

export type MemoryReport = {
  isolate_peak_bytes: number | null;
  isolate_samples: number;
  sample_interval_ms: number;
  process_peak_rss_bytes: number | null;
  process_rss_before_bytes: number | null;
  process_peak_growth_bytes: number | null;
};

const INTERVAL_MS = 100;

type HeapUsage = { usedSize: number; embedderHeapUsedSize?: number; backingStorageSize?: number };

export async function watchMemory(runtime: Runtime, workerName: string): Promise<{ stop(): Promise<MemoryReport> }> {
  const before = runtime.pid ? processMemory(runtime.pid) : null;
  const inspector = await runtime.mf.getInspectorURL();
  const socket = new WebSocket(new URL(`/core:user:${workerName}`, inspector).href);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  let peak: number | null = null;
  let samples = 0;
  let nextId = 0;
  socket.on("message", (data) => {
    const message = JSON.parse(String(data)) as { result?: HeapUsage };
    const usage = message.result;
    if (!usage || typeof usage.usedSize !== "number") return;
    const bytes = usage.usedSize + (usage.embedderHeapUsedSize ?? 0) + (usage.backingStorageSize ?? 0);
    peak = Math.max(peak ?? 0, bytes);
    samples += 1;
  });
  const timer = setInterval(() => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ id: ++nextId, method: "Runtime.getHeapUsage" }));
  }, INTERVAL_MS);

  return {
    async stop() {
      clearInterval(timer);
      socket.close();
      const after = runtime.pid ? processMemory(runtime.pid) : null;
      return {
        isolate_peak_bytes: peak,
        isolate_samples: samples,
        sample_interval_ms: INTERVAL_MS,
        process_peak_rss_bytes: after?.peak_rss_bytes ?? null,
        process_rss_before_bytes: before?.rss_bytes ?? null,
        process_peak_growth_bytes: after && before ? after.peak_rss_bytes - before.rss_bytes : null,
      };
    },
  };
}
