/**
 * GET /events/stream: the events the caller may see arrive as they commit (each within
 * 1 s of the response that committed it, measured), in order, never another
 * organization's; a reconnect with Last-Event-ID resumes without loss or duplicates,
 * whether the organization's hub kept running or started afresh; parse and export
 * progress arrive while the real consumers' work runs.
 */
import { env, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { hubName, type SubscribeRequest, type WirePrincipal } from "../src/features/events/event-hub-protocol.ts";
import { writeExport } from "../src/features/exports/export-writer.ts";
import { runParseMessage } from "../src/features/parsing/parse-run.ts";
import { createLogger } from "../src/lib/logger.ts";
import { sql, testDb } from "./helpers/db.ts";
import { createExportFixture, insertExport } from "./helpers/exports.ts";
import { createUser, registerClient, unique, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import { insertProject } from "./helpers/projects.ts";
import { createParseTarget, parseDependencies, recordingQueue } from "./helpers/parse.ts";

const LATENCY_LIMIT_MS = 1000;

type Frame = { id?: string; event?: string; data?: any; arrivedAt: number };

/** An open stream: frames as they arrive, parsed from the SSE text. */
class StreamReader {
  readonly frames: Frame[] = [];
  private buffer = "";
  private readonly waiters = new Set<() => void>();
  private done = false;
  /** Resolves when the server ends the stream (or close() aborts it). */
  readonly closed: Promise<void>;
  private markClosed!: () => void;

  private readonly response: Response;
  private readonly controller: AbortController;

  constructor(response: Response, controller: AbortController) {
    this.response = response;
    this.controller = controller;
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    void this.pump();
  }

  get ended() {
    return this.done;
  }

  get status() {
    return this.response.status;
  }

  get headers() {
    return this.response.headers;
  }

  private async pump() {
    const reader = this.response.body!.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.buffer += value;
        let end: number;
        while ((end = this.buffer.indexOf("\n\n")) >= 0) {
          this.parse(this.buffer.slice(0, end));
          this.buffer = this.buffer.slice(end + 2);
        }
      }
    } catch {
      // aborted by close()
    }
    this.done = true;
    this.markClosed();
    this.notify();
  }

  private parse(block: string) {
    const frame: Frame = { arrivedAt: performance.now() };
    let hasField = false;
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") frame.id = value;
      else if (field === "event") frame.event = value;
      else if (field === "data") frame.data = JSON.parse(value);
      else continue;
      hasField = true;
    }
    if (hasField) this.frames.push(frame);
    this.notify();
  }

  private notify() {
    for (const waiter of this.waiters) waiter();
  }

  get events() {
    return this.frames.filter((frame) => frame.event === "event");
  }

  get progress() {
    return this.frames.filter((frame) => frame.event === "progress");
  }

  /** The first frame (from `from` on) that `match` accepts, or an error after `timeoutMs`. */
  async waitFor(match: (frame: Frame) => boolean, timeoutMs = 5000, from = 0): Promise<Frame> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      if (this.done) throw new Error("the stream ended");
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.map((f) => [f.event, f.id, f.data?.action ?? f.data?.status]))}`);
      await new Promise<void>((resolve) => {
        const waiter = () => {
          this.waiters.delete(waiter);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(waiter, left);
        this.waiters.add(waiter);
      });
    }
  }

  /** Nothing more of `match` arrives within `ms`. */
  async expectQuiet(match: (frame: Frame) => boolean, ms: number) {
    const before = this.frames.length;
    await new Promise((resolve) => setTimeout(resolve, ms));
    expect(this.frames.slice(before).filter(match)).toEqual([]);
  }

  close() {
    this.controller.abort();
  }
}

const open: StreamReader[] = [];

async function openStream(token: string, lastEventId?: number): Promise<StreamReader> {
  const controller = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (lastEventId !== undefined) headers["last-event-id"] = String(lastEventId);
  const response = await SELF.fetch("http://api.test/api/v1/events/stream", { headers, signal: controller.signal });
  const stream = new StreamReader(response, controller);
  open.push(stream);
  return stream;
}

afterEach(() => {
  for (const stream of open.splice(0)) stream.close();
});

/** A change through the API; resolves when its response (and so its commit) is in. */
async function rename(account: Account, projectId: number) {
  const response = await request("PATCH", `/api/v1/projects/${projectId}`, { token: account.token, body: { name: unique("Renamed") } });
  expect(response.status).toBe(200);
  return { committedAt: performance.now(), requestId: response.headers.get("x-request-id")! };
}

async function createProject(account: Account) {
  const response = await request("POST", "/api/v1/projects", { token: account.token, body: { name: unique("Streamed") } });
  expect(response.status).toBe(201);
  return { projectId: response.body.project_id as number, committedAt: performance.now(), requestId: response.headers.get("x-request-id")! };
}

/** The caller's events after `after`, oldest first, from GET /events: what the stream must have sent. */
async function visibleEventIds(account: Account, after: number): Promise<number[]> {
  const response = await request("GET", "/api/v1/events?limit=200", { token: account.token });
  expect(response.status).toBe(200);
  return (response.body.data as { event_id: number }[]).map((event) => event.event_id).filter((id) => id > after).reverse();
}

async function newestEventId(): Promise<number> {
  const result = await testDb().execute(sql`select coalesce(max(event_id), 0)::int as newest from event_log`);
  return (result.rows[0] as { newest: number }).newest;
}

const idsOf = (frames: Frame[]) => frames.map((frame) => Number(frame.id));

describe("GET /events/stream", () => {
  it("sends the caller's visible events within a second of their commit, in order, and never another organization's", async () => {
    const watcher = await registerClient();
    const [colleague, stranger] = await Promise.all([createUser("client_admin", watcher.org_id), registerClient()]);
    const start = await newestEventId();
    const stream = await openStream(watcher.token);
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);

    const latencies: number[] = [];
    const { projectId, committedAt, requestId } = await createProject(colleague);
    const created = await stream.waitFor((frame) => frame.data?.request_id === requestId);
    latencies.push(created.arrivedAt - committedAt);
    expect(created.data).toMatchObject({ action: "project.create", entity_type: "project", entity_id: projectId, org_id: watcher.org_id });
    expect(created.id).toBe(String(created.data.event_id));

    const strangers = await createProject(stranger);
    for (let index = 0; index < 3; index++) {
      const change = await rename(colleague, projectId);
      const frame = await stream.waitFor((candidate) => candidate.data?.request_id === change.requestId);
      latencies.push(frame.arrivedAt - change.committedAt);
    }
    await rename(stranger, strangers.projectId);
    const own = await createProject(watcher);
    latencies.push((await stream.waitFor((frame) => frame.data?.request_id === own.requestId)).arrivedAt - own.committedAt);

    // Everything GET /events shows this caller since the stream opened, and nothing else, in id order.
    await stream.expectQuiet((frame) => frame.event === "event", 600);
    const expected = await visibleEventIds(watcher, start);
    expect(idsOf(stream.events)).toEqual(expected);
    expect(stream.events.every((frame) => frame.data.org_id === watcher.org_id)).toBe(true);
    expect(expected).toHaveLength(5);
    console.info(`event stream latency (ms after the committing response): ${latencies.map((ms) => ms.toFixed(0)).join(", ")}`);
    for (const latency of latencies) expect(latency).toBeLessThan(LATENCY_LIMIT_MS);
  });

  it("sends a pm the events of the projects they manage, and not of the client's other projects", async () => {
    const [pm, client] = await Promise.all([createUser("pm"), registerClient()]);
    const [managed, unmanaged] = await Promise.all([
      insertProject(client.org_id, { our_pm_id: pm.user_id }),
      insertProject(client.org_id),
    ]);
    const start = await newestEventId();
    const stream = await openStream(pm.token);
    const seen = await rename(client, managed.project_id);
    await rename(client, unmanaged.project_id);
    const last = await rename(client, managed.project_id);
    await stream.waitFor((frame) => frame.data?.request_id === last.requestId);
    await stream.expectQuiet((frame) => frame.event === "event", 600);
    expect(stream.events.map((frame) => frame.data.request_id)).toEqual([seen.requestId, last.requestId]);
    expect(idsOf(stream.events)).toEqual(await visibleEventIds(pm, start));
  });

  it("is not held up by an event id that never commits (a rolled-back write)", async () => {
    const watcher = await registerClient();
    const { projectId } = await createProject(watcher);
    const stream = await openStream(watcher.token);
    // Taken and never used, as by a write that rolled back: a gap below the next event.
    await testDb().execute(sql`select nextval(pg_get_serial_sequence('event_log', 'event_id'))`);
    const change = await rename(watcher, projectId);
    const frame = await stream.waitFor((candidate) => candidate.data?.request_id === change.requestId);
    expect(frame.arrivedAt - change.committedAt).toBeLessThan(LATENCY_LIMIT_MS);
  });

  for (const hubKeptRunning of [true, false]) {
    it(`resumes from Last-Event-ID without loss or duplicates (${hubKeptRunning ? "the hub kept running" : "the hub starts afresh"})`, async () => {
      const watcher = await registerClient();
      const colleague = await createUser("client_admin", watcher.org_id);
      const { projectId } = await createProject(colleague);
      // Another subscriber of the organization keeps its hub polling while the first is away.
      const bystander = hubKeptRunning ? await openStream((await createUser("client_admin", watcher.org_id)).token) : null;
      const first = await openStream(watcher.token);
      const before = await rename(colleague, projectId);
      const last = await first.waitFor((frame) => frame.data?.request_id === before.requestId);
      first.close();

      const missed: string[] = [];
      for (let index = 0; index < 3; index++) missed.push((await rename(colleague, projectId)).requestId);
      if (bystander) await bystander.waitFor((frame) => frame.data?.request_id === missed.at(-1));

      const resumed = await openStream(watcher.token, Number(last.id));
      for (const requestId of missed) await resumed.waitFor((frame) => frame.data?.request_id === requestId);
      const live = await rename(colleague, projectId);
      const liveFrame = await resumed.waitFor((frame) => frame.data?.request_id === live.requestId);
      expect(liveFrame.arrivedAt - live.committedAt).toBeLessThan(LATENCY_LIMIT_MS);

      await resumed.expectQuiet((frame) => frame.event === "event", 600);
      expect(resumed.events.map((frame) => frame.data.request_id)).toEqual([...missed, live.requestId]);
      const ids = idsOf(resumed.events);
      expect(ids.every((id, index) => index === 0 || id > ids[index - 1]!)).toBe(true);
      expect(ids[0]).toBeGreaterThan(Number(last.id));
    });
  }

  for (const hubKeptRunning of [true, false]) {
    it(`replays a backlog longer than a page from Last-Event-ID, in order and complete (${hubKeptRunning ? "catch-up pages" : "live pages"})`, async () => {
      const watcher = await registerClient();
      const bystander = hubKeptRunning ? await openStream((await createUser("client_admin", watcher.org_id)).token) : null;
      const resumeFrom = await newestEventId();
      const backlog = 1234;
      const inserted = await testDb().execute(sql`insert into event_log (org_id, actor_kind, action, entity_type, entity_id)
        select ${watcher.org_id}, 'system', 'test.backlog', 'test', g from generate_series(1, ${backlog}) g returning event_id`);
      const ids = (inserted.rows as { event_id: number | string }[]).map((row) => Number(row.event_id)).sort((a, b) => a - b);
      if (bystander) await bystander.waitFor((frame) => Number(frame.id) === ids.at(-1), 10_000);

      const resumed = await openStream(watcher.token, resumeFrom);
      await resumed.waitFor((frame) => Number(frame.id) === ids.at(-1), 10_000);
      expect(idsOf(resumed.events)).toEqual(ids);
    });
  }

  it("carries the progress of a parse run by the parse consumer, then its event", async () => {
    const csv = ["id,text", ...Array.from({ length: 40 }, (_, index) => `${index},row ${index}`)].join("\n");
    const target = await createParseTarget({ filename: "progress.csv", contentType: "text/csv", bytes: new TextEncoder().encode(csv) });
    const watcher = await createUser("client_admin", target.org_id);
    const stream = await openStream(watcher.token);
    await stream.waitFor((frame) => frame.event === "progress" && frame.data.id === target.version_id && frame.data.status === "queued");

    const { queue, sent } = recordingQueue();
    const deps = parseDependencies(queue);
    const options = { chunkRows: 10, chunkPayloadBytes: 1_000_000 };
    let lastDone = -1;
    for (let message: Parameters<typeof runParseMessage>[0] | undefined = { kind: "parse", version_id: target.version_id }; message; message = sent.shift()) {
      const from = stream.frames.length;
      const outcome = await runParseMessage(message, deps, options);
      const handled = performance.now();
      const frame = await stream.waitFor((candidate) => candidate.event === "progress" && candidate.data.id === target.version_id, 5000, from);
      expect(frame.arrivedAt - handled).toBeLessThan(LATENCY_LIMIT_MS);
      expect(frame.data.done).toBeGreaterThan(lastDone);
      lastDone = frame.data.done;
      if (outcome === "succeeded") break;
    }
    const progress = stream.progress.filter((frame) => frame.data.id === target.version_id).map((frame) => frame.data);
    expect(progress.at(-1)).toMatchObject({ kind: "parse", status: "succeeded", project_id: target.project_id });
    expect(progress.at(-1).done).toBe(progress.at(-1).total);
    expect(progress.filter((entry) => entry.status === "running").length).toBeGreaterThanOrEqual(2);
    await stream.waitFor((frame) => frame.event === "event" && frame.data.action === "file_version.parse" && frame.data.entity_id === target.version_id);
  });

  it("carries an export's progress to its organization and not to another", async () => {
    const fixture = await createExportFixture({ tables: [{ columns: ["id"], rows: [{ id: 1 }, { id: 2 }, { id: 3 }] }], jobs: [{ table: 0, row_start: 0, row_end: 2, status: "reviewed", annotations: { 0: { label: "a" }, 1: { label: "b" }, 2: { label: "c" } }, reviews: ["approved"] }] });
    const [watcher, stranger] = await Promise.all([createUser("client_admin", fixture.org_id), registerClient()]);
    // Requested before anyone listened (a row without its queue message): the hub follows the work it finds running when it starts.
    const exportId = await insertExport(fixture, { format: "jsonl" });
    const [stream, strangers] = await Promise.all([openStream(watcher.token), openStream(stranger.token)]);
    await stream.waitFor((frame) => frame.event === "progress" && frame.data.id === exportId && frame.data.status === "queued");

    const deps = { db: testDb(), bucket: env.FILES, logger: createLogger({ test: "event-stream" }, "error") };
    expect(await writeExport(deps, exportId, { delivery: { id: crypto.randomUUID(), attempt: 1 } })).toBe("succeeded");
    const done = performance.now();
    const finished = await stream.waitFor((frame) => frame.event === "progress" && frame.data.id === exportId && frame.data.status === "succeeded");
    expect(finished.arrivedAt - done).toBeLessThan(LATENCY_LIMIT_MS);
    expect(finished.data).toMatchObject({ kind: "export", project_id: fixture.project_id });
    await strangers.expectQuiet(() => true, 300);
    expect(strangers.frames).toEqual([]);
  });

  it("ends a stream whose credential is revoked while it is open (the hub asks the guard again)", async () => {
    const client = await registerClient();
    const [victim, admin] = await Promise.all([createUser("client_admin", client.org_id), createUser("admin")]);
    const version = await testDb().execute(sql`select credentials_version from "user" where user_id = ${victim.user_id}`);
    const principal: WirePrincipal = {
      user_id: victim.user_id,
      org_id: client.org_id,
      org_kind: "client",
      roles: ["client_admin"],
      permissions: ["event:read"],
      credentials_version: (version.rows[0] as { credentials_version: number }).credentials_version,
      credential: { kind: "access_token", session_id: null },
    };
    // Straight to the hub, with the recheck every 200 ms instead of every 30 s.
    const hub = env.EVENT_HUB.get(env.EVENT_HUB.idFromName(hubName(principal)));
    const subscribe: SubscribeRequest = { principal, after: await newestEventId(), credentialRecheckMs: 200 };
    const controller = new AbortController();
    const response = await hub.fetch("https://event-hub/subscribe", { method: "POST", body: JSON.stringify(subscribe), signal: controller.signal });
    const stream = new StreamReader(response as unknown as Response, controller);
    open.push(stream);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(stream.ended).toBe(false);

    expect((await request("DELETE", `/api/v1/users/${victim.user_id}`, { token: admin.token })).status).toBe(204);
    const revokedAt = performance.now();
    await stream.closed;
    expect(performance.now() - revokedAt).toBeLessThan(LATENCY_LIMIT_MS);
  });

  it("refuses roles without event:read (403) and a malformed Last-Event-ID (422)", async () => {
    const client = await registerClient();
    const member = await createUser("client_member", client.org_id);
    expect((await request("GET", "/api/v1/events/stream", { token: member.token })).status).toBe(403);
    const malformed = await request("GET", "/api/v1/events/stream", { token: client.token, headers: { "last-event-id": "yesterday" } });
    expect(malformed.status).toBe(422);
    expect(malformed.body.errors[0].path).toBe("header.last-event-id");
  });
});
