/**
 * Memory of a queue consumer while it works, three ways:
 *
 * - the isolate's live memory: every few seconds a heap snapshot over the inspector
 *   (`HeapProfiler.takeHeapSnapshot`: V8 collects garbage, then walks what is still
 *   reachable), summed over every object, plus the ArrayBuffer backing stores V8
 *   reports right after it. Its peak is what the consumer holds at once, the figure to
 *   compare with the 128 MB isolate limit. A snapshot pauses the isolate for a moment;
 *   the consumer's rates are measured with those pauses in.
 * - the isolate's heap: V8's own account (`Runtime.getHeapUsage`: heap used + embedder
 *   heap + backing stores) every 100 ms. It counts garbage and pages not yet swept
 *   (a collection asked for over the inspector does not change that reliably), so its
 *   peak says how far the heap grew, not what the consumer needed.
 * - the process: workerd's peak resident set size (VmHWM in /proc/<pid>/status) minus
 *   its resident size just before the work started. An upper bound: the same process
 *   also hosts Miniflare's R2 and Queues simulators and the runtime itself.
 */
import { openInspector, type InspectorSession } from "./inspector.ts";
import { processMemory, type Runtime } from "./runtime.ts";

export type MemoryReport = {
  /** Reachable objects + backing stores, by heap snapshot, before the work: code, routes, schemas. */
  isolate_live_idle_bytes: number | null;
  /** The largest snapshot during the work, and what it was made of. */
  isolate_live_peak_bytes: number | null;
  isolate_live_peak_parts: { objects: number; array_buffers: number } | null;
  /** Every snapshot: seconds since the work started, bytes. Flat means bounded; a climb means something is kept. */
  isolate_live_series: [number, number][];
  snapshot_interval_ms: number;
  isolate_heap_peak_bytes: number | null;
  heap_samples: number;
  sample_interval_ms: number;
  process_peak_rss_bytes: number | null;
  process_rss_before_bytes: number | null;
  process_peak_growth_bytes: number | null;
};

const INTERVAL_MS = 100;
const SNAPSHOT_INTERVAL_MS = 10_000;

type HeapUsage = { usedSize: number; embedderHeapUsedSize?: number; backingStorageSize?: number };

/** Sum of the self sizes of every node of a heap snapshot (the JSON V8 streams in chunks). */
function snapshotBytes(json: string): number {
  const snapshot = JSON.parse(json) as { snapshot: { meta: { node_fields: string[] } }; nodes: number[] };
  const fields = snapshot.snapshot.meta.node_fields;
  const selfSize = fields.indexOf("self_size");
  let total = 0;
  for (let i = selfSize; i < snapshot.nodes.length; i += fields.length) total += snapshot.nodes[i]!;
  return total;
}

/** The isolate's live bytes (a heap snapshot's objects plus array buffers), over an inspector session. */
function liveBytesOf(session: InspectorSession) {
  let snapshotChunks: string[] = [];
  session.onEvent((message) => {
    if (message.method === "HeapProfiler.addHeapSnapshotChunk") snapshotChunks.push(String(message.params!.chunk));
  });
  return async (): Promise<{ objects: number; array_buffers: number } | null> => {
    snapshotChunks = [];
    await session.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    if (snapshotChunks.length === 0) return null;
    const objects = snapshotBytes(snapshotChunks.join(""));
    snapshotChunks = [];
    const usage = (await session.call("Runtime.getHeapUsage")).result as HeapUsage | undefined;
    return { objects, array_buffers: usage?.backingStorageSize ?? 0 };
  };
}

const heapBytes = (usage: HeapUsage) => usage.usedSize + (usage.embedderHeapUsedSize ?? 0) + (usage.backingStorageSize ?? 0);

/** `snapshotIntervalMs`: how often to snapshot the live heap (a snapshot pauses the isolate). */
export async function watchMemory(runtime: Runtime, workerName: string, snapshotIntervalMs = SNAPSHOT_INTERVAL_MS): Promise<{ stop(): Promise<MemoryReport> }> {
  const before = runtime.pid ? processMemory(runtime.pid) : null;
  const session = await openInspector(await runtime.mf.getInspectorURL(), workerName);
  const liveBytes = liveBytesOf(session);
  const total = (parts: { objects: number; array_buffers: number } | null) => (parts ? parts.objects + parts.array_buffers : null);

  const idle = total(await liveBytes());
  const started = performance.now();
  const live = { peak: null as number | null, parts: null as MemoryReport["isolate_live_peak_parts"], series: [] as [number, number][] };
  const heap = { peak: null as number | null, samples: 0 };

  let stopped = false;
  const snapshots = (async () => {
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, snapshotIntervalMs));
      if (stopped) break;
      const parts = await liveBytes();
      const bytes = total(parts);
      if (bytes === null) continue;
      live.series.push([Math.round((performance.now() - started) / 100) / 10, bytes]);
      if (bytes > (live.peak ?? 0)) Object.assign(live, { peak: bytes, parts });
    }
  })();
  const timer = setInterval(async () => {
    const usage = (await session.call("Runtime.getHeapUsage")).result as HeapUsage | undefined;
    if (!usage || typeof usage.usedSize !== "number") return;
    heap.peak = Math.max(heap.peak ?? 0, heapBytes(usage));
    heap.samples += 1;
  }, INTERVAL_MS);

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await snapshots;
      session.close();
      const after = runtime.pid ? processMemory(runtime.pid) : null;
      return {
        isolate_live_idle_bytes: idle,
        isolate_live_peak_bytes: live.peak,
        isolate_live_peak_parts: live.parts,
        isolate_live_series: live.series,
        snapshot_interval_ms: snapshotIntervalMs,
        isolate_heap_peak_bytes: heap.peak,
        heap_samples: heap.samples,
        sample_interval_ms: INTERVAL_MS,
        process_peak_rss_bytes: after?.peak_rss_bytes ?? null,
        process_rss_before_bytes: before?.rss_bytes ?? null,
        process_peak_growth_bytes: after && before ? after.peak_rss_bytes - before.rss_bytes : null,
      };
    },
  };
}
