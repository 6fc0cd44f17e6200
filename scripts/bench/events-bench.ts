/**
 * Events out (README "Webhooks", "Live event stream"): how long after a write commits its
 * event reaches a webhook endpoint and an open `GET /events/stream`, under a steady
 * write load, through the production bundle with wrangler.toml's queues, Durable Objects
 * and alarms (the webhook queue's batch window included).
 *
 * - The load: BENCH_EVENTS_RATE writes per second for BENCH_EVENTS_DURATION seconds, sent
 *   on a fixed schedule (open loop: a slow answer does not slow the load), each a
 *   `PATCH /projects/{id}` (one round trip, one `project.update` event), over a few
 *   projects of one organization, after a warm-up whose events are not counted.
 * - Commit time: when the bench receives the write's 2xx answer. The change committed
 *   before the answer left, so this is when a client knows its write is in; the figures
 *   are "answer → event", what an integrator sees. (`event_log.created_at` is the
 *   transaction's start, before the commit; the figures from it are in the JSON.)
 * - Arrival: when the bench's own HTTP receiver gets the webhook's POST, and when the
 *   bench reads the event's frame off the stream; the same process and clock as the
 *   write's answer. Each event is matched to its write by `request_id` (the write's
 *   X-Request-Id).
 * - Checked too: every write's event arrived once on each, webhooks in event_id order.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Bundle } from "./bundle.ts";
import { BENCH_PASSWORD } from "./dataset.ts";
import { apiWorker, backgroundWorker, startRuntime, type BenchBindings } from "./runtime.ts";
import { callApi } from "./session.ts";

export type Latency = { events: number; missing: number; duplicates: number; out_of_order: number; p50_ms: number | null; p99_ms: number | null; max_ms: number | null; from_created_at: { p50_ms: number | null; p99_ms: number | null } };

export type EventsBenchReport = {
  status: "measured" | "failed";
  reason: string | null;
  description: string;
  rate_per_s: number;
  duration_s: number;
  writes: { sent: number; failed: number; p50_ms: number | null; p99_ms: number | null; round_trips: number[] };
  webhook: Latency | null;
  stream: Latency | null;
  notes: string[];
  worker_log: string[];
};

type Arrival = { requestId: string; eventId: number; createdAt: number; at: number };

/** Wall-clock milliseconds with sub-millisecond resolution: answers and arrivals share it. */
const now = () => performance.timeOrigin + performance.now();

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The webhook endpoint: records each POST's event and when it came, answers 204. */
async function startReceiver(arrivals: Arrival[]) {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const at = now();
      const { data } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { data: { event_id: number; request_id: string; created_at: string } };
      arrivals.push({ requestId: data.request_id, eventId: data.event_id, createdAt: Date.parse(data.created_at), at });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Reads `text/event-stream` frames as they come, recording each event's arrival. */
async function readStream(body: ReadableStream<Uint8Array>, arrivals: Arrival[], stop: AbortSignal) {
  const reader = body.getReader();
  stop.addEventListener("abort", () => void reader.cancel().catch(() => undefined));
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
    if (done) return;
    const at = now();
    buffered += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const frame = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const fields = Object.fromEntries(frame.split("\n").map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()]));
      if (fields.event !== "event" || !fields.data) continue;
      const data = JSON.parse(fields.data) as { event_id: number; request_id: string; created_at: string };
      arrivals.push({ requestId: data.request_id, eventId: data.event_id, createdAt: Date.parse(data.created_at), at });
    }
  }
}

function latency(answeredAt: Map<string, number>, arrivals: Arrival[], checkOrder: boolean): Latency {
  const measured = arrivals.filter((arrival) => answeredAt.has(arrival.requestId));
  const seen = new Set<string>();
  let duplicates = 0;
  const fromAnswer: number[] = [];
  const fromCreated: number[] = [];
  for (const arrival of measured) {
    if (seen.has(arrival.requestId)) {
      duplicates += 1;
      continue;
    }
    seen.add(arrival.requestId);
    fromAnswer.push(arrival.at - answeredAt.get(arrival.requestId)!);
    fromCreated.push(arrival.at - arrival.createdAt);
  }
  const outOfOrder = checkOrder ? arrivals.filter((arrival, index) => index > 0 && arrival.eventId < arrivals[index - 1]!.eventId).length : 0;
  return {
    events: seen.size,
    missing: answeredAt.size - seen.size,
    duplicates,
    out_of_order: outOfOrder,
    p50_ms: percentile(fromAnswer, 50),
    p99_ms: percentile(fromAnswer, 99),
    max_ms: percentile(fromAnswer, 100),
    from_created_at: { p50_ms: percentile(fromCreated, 50), p99_ms: percentile(fromCreated, 99) },
  };
}

export type EventsBenchInput = { bundle: Bundle; bindings: BenchBindings; ratePerSecond: number; durationSeconds: number; warmupSeconds: number; log: (line: string) => void };

const DESCRIPTION = "PATCH /projects/{id} at a steady rate; answer → webhook POST received, answer → stream frame read";

export async function runEventsBench(input: EventsBenchInput): Promise<EventsBenchReport> {
  const { ratePerSecond, durationSeconds, log } = input;
  const report: EventsBenchReport = {
    status: "failed", reason: null, description: DESCRIPTION, rate_per_s: ratePerSecond, duration_s: durationSeconds,
    writes: { sent: 0, failed: 0, p50_ms: null, p99_ms: null, round_trips: [] }, webhook: null, stream: null, notes: [], worker_log: [],
  };
  const webhookArrivals: Arrival[] = [];
  const streamArrivals: Arrival[] = [];
  const receiver = await startReceiver(webhookArrivals);
  // Webhooks to the bench's own receiver: http on 127.0.0.1, as `npm run dev` allows.
  const bindings = { ...input.bindings, WEBHOOK_ALLOW_INSECURE: "true", WEBHOOK_SECRET_KEY: randomBytes(32).toString("base64") };
  const runtime = await startRuntime([apiWorker(input.bundle, "api", bindings), backgroundWorker(input.bundle.background, bindings, { queueConsumers: true })]);
  const stop = new AbortController();
  try {
    const base = await runtime.url("api");
    const email = `events-${randomBytes(4).toString("hex")}@bench.test`;
    const registered = await callApi(base, "POST", "/api/v1/auth/register", { body: { email, password: BENCH_PASSWORD, full_name: "Events bench", organization_name: `Events bench ${email}` } });
    if (registered.status !== 201) throw new Error(`register answered ${registered.status}: ${JSON.stringify(registered.body)}`);
    const token = registered.body.access_token as string;
    const hook = await callApi(base, "POST", "/api/v1/webhooks", { token, body: { url: receiver.url, events: ["project.update"] } });
    if (hook.status !== 201) throw new Error(`POST /webhooks answered ${hook.status}: ${JSON.stringify(hook.body)}`);
    const projectIds: number[] = [];
    for (let index = 0; index < 8; index++) {
      const project = await callApi(base, "POST", "/api/v1/projects", { token, body: { name: `Events ${index}` } });
      if (project.status !== 201) throw new Error(`POST /projects answered ${project.status}`);
      projectIds.push(project.body.project_id as number);
    }
    const stream = await fetch(new URL("/api/v1/events/stream", base), { headers: { authorization: `Bearer ${token}` }, signal: stop.signal });
    if (stream.status !== 200 || !stream.body) throw new Error(`GET /events/stream answered ${stream.status}`);
    const reading = readStream(stream.body, streamArrivals, stop.signal);

    const answeredAt = new Map<string, number>();
    const writeMs: number[] = [];
    const roundTrips = new Set<number>();
    const write = async (index: number, requestId: string, measured: boolean) => {
      const sent = now();
      const response = await fetch(new URL(`/api/v1/projects/${projectIds[index % projectIds.length]}`, base), {
        method: "PATCH",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "x-request-id": requestId },
        body: JSON.stringify({ description: `write ${index}` }),
      }).catch(() => null);
      const answered = now();
      await response?.arrayBuffer();
      if (!measured) return;
      report.writes.sent += 1;
      if (!response || response.status !== 200) {
        report.writes.failed += 1;
        return;
      }
      answeredAt.set(requestId, answered);
      writeMs.push(answered - sent);
      const trips = /desc="(\d+) round trips"/.exec(response.headers.get("server-timing") ?? "");
      if (trips) roundTrips.add(Number(trips[1]));
    };
    const load = async (seconds: number, prefix: string, measured: boolean) => {
      const started = now();
      const pending: Promise<void>[] = [];
      for (let index = 0; index < Math.round(seconds * ratePerSecond); index++) {
        const due = started + (index * 1000) / ratePerSecond;
        if (due > now()) await new Promise((resolve) => setTimeout(resolve, due - now()));
        pending.push(write(index, `${prefix}-${index}`, measured));
      }
      await Promise.all(pending);
    };
    log(`  warm-up ${input.warmupSeconds} s, then ${ratePerSecond} writes/s for ${durationSeconds} s`);
    await load(input.warmupSeconds, "events-warmup", false);
    await load(durationSeconds, "events", true);
    // Everything in, or 60 s more: a missing event is reported, not waited for forever.
    const deadline = now() + 60_000;
    const arrived = (arrivals: Arrival[]) => new Set(arrivals.filter((arrival) => answeredAt.has(arrival.requestId)).map((arrival) => arrival.requestId)).size;
    while (now() < deadline && (arrived(webhookArrivals) < answeredAt.size || arrived(streamArrivals) < answeredAt.size)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    stop.abort();
    await reading;
    report.writes.p50_ms = percentile(writeMs, 50);
    report.writes.p99_ms = percentile(writeMs, 99);
    report.writes.round_trips = [...roundTrips].sort((a, b) => a - b);
    report.webhook = latency(answeredAt, webhookArrivals, true);
    report.stream = latency(answeredAt, streamArrivals, true);
    for (const [name, figures] of [["webhook", report.webhook], ["stream", report.stream]] as const) {
      if (figures.missing || figures.duplicates || figures.out_of_order) {
        report.notes.push(`${name}: ${figures.missing} events missing, ${figures.duplicates} duplicates, ${figures.out_of_order} out of order`);
      }
    }
    report.status = "measured";
  } catch (error) {
    report.reason = error instanceof Error ? error.message : String(error);
  } finally {
    stop.abort();
    report.worker_log = runtime.problems.slice(0, 5);
    await runtime.dispose();
    await receiver.close();
  }
  return report;
}

const ms = (value: number | null | undefined) => (value === null || value === undefined ? "–" : value.toFixed(0));

function rows(report: EventsBenchReport): string[][] {
  return (["webhook", "stream"] as const).map((name) => {
    const figures = report[name];
    return [name === "webhook" ? "commit → webhook" : "commit → stream", ms(figures?.p50_ms), ms(figures?.p99_ms), ms(figures?.max_ms), `${figures?.events ?? 0}/${report.writes.sent - report.writes.failed}`];
  });
}

export function eventsLines(report: EventsBenchReport | null, table: (header: string[], rows: string[][]) => string): string[] {
  if (!report) return [];
  if (report.status !== "measured") return [`events: ${report.status} (${report.reason})`];
  return [
    `events: ${report.description}; ${report.rate_per_s} writes/s for ${report.duration_s} s, write p50 ${ms(report.writes.p50_ms)} ms p99 ${ms(report.writes.p99_ms)} ms, round trips ${report.writes.round_trips.join("/")}`,
    table(["latency (ms)", "p50", "p99", "max", "events"], rows(report)),
    "",
  ];
}

export function eventsMarkdown(report: EventsBenchReport | null, table: (header: string[], rows: string[][]) => string): string[] {
  if (!report) return [];
  if (report.status !== "measured") return [`**Events out**: ${report.status} (${report.reason})`, ""];
  return [
    `**Events out**: ${report.description}; ${report.rate_per_s} writes/s for ${report.duration_s} s (write p50 ${ms(report.writes.p50_ms)} ms, p99 ${ms(report.writes.p99_ms)} ms, ${report.writes.round_trips.join("/")} round trip per write).`,
    "",
    table(["latency (ms)", "p50", "p99", "max", "events arrived"], rows(report)),
    "",
  ];
}
