/**
 * Sends fuzz requests to the Worker and checks every answer against the contract:
 * never 5xx, a status the operation declares in /openapi.json, and errors as
 * application/problem+json naming their status and request id.
 */
import { SELF } from "cloudflare:test";
import { bodyText } from "../helpers/http.ts";
import type { Operation } from "./openapi.ts";
import type { Random } from "./prng.ts";
import { buildRequest, type FuzzRequest, type FuzzState, type Identity } from "./requests.ts";
import type { IdPool } from "./values.ts";

export type Failure = { problem: string; operation: string; identity: string; request: FuzzRequest; status: number; response: string };

export type FuzzReport = { requests: number; failures: Failure[]; statuses: Map<string, number>; milliseconds: number };

const CONCURRENCY = 4;

function problemOf(operation: Operation, status: number, headers: Headers, text: string): string | null {
  if (status >= 500) return `status ${status}`;
  if (!operation.statuses.has(status)) return `status ${status} is not declared`;
  if (!headers.get("x-request-id")) return "no X-Request-Id";
  if (status < 400) return null;
  if (!(headers.get("content-type") ?? "").startsWith("application/problem+json")) return `error ${status} is not problem+json`;
  if (!operation.problemStatuses.has(status)) return `error ${status} is not declared as problem+json`;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    if (body.status !== status || typeof body.type !== "string" || typeof body.detail !== "string" || typeof body.request_id !== "string") {
      return `problem body does not match status ${status}`;
    }
  } catch {
    return "problem body is not JSON";
  }
  return null;
}

function learn(state: FuzzState, operation: Operation, headers: Headers, text: string) {
  const etag = headers.get("etag");
  if (etag && !state.etags.includes(etag)) state.etags.push(etag);
  if (state.etags.length > 100) state.etags.shift();
  if (!(headers.get("content-type") ?? "").startsWith("application/json")) return;
  try {
    const body = JSON.parse(text) as { next_cursor?: unknown };
    state.pool.harvest(body);
    if (typeof body.next_cursor === "string") state.cursors.set(operation.path, [...(state.cursors.get(operation.path) ?? []).slice(-9), body.next_cursor]);
  } catch {
    // not ours to judge here: problemOf reports a broken body
  }
}

async function send(request: FuzzRequest) {
  const response = await SELF.fetch(`http://api.test${request.url}`, { method: request.method, headers: request.headers, body: request.body ?? null });
  return { status: response.status, headers: response.headers, text: await bodyText(response) };
}

/**
 * `count` requests in batches of CONCURRENCY: each batch is drawn in order from the
 * PRNG before it is sent and what it returns is learnt in order, so a seed replays the
 * same requests whatever the timing.
 */
export async function fuzz(options: { operations: Operation[]; identities: Identity[]; pool: IdPool; random: Random; count: number }): Promise<FuzzReport> {
  const { operations, identities, random } = options;
  const state: FuzzState = { random, pool: options.pool, etags: [], cursors: new Map(), idempotencyKeys: [], hostility: 1 };
  const report: FuzzReport = { requests: 0, failures: [], statuses: new Map(), milliseconds: 0 };
  const started = Date.now();
  while (report.requests < options.count) {
    const batch = Array.from({ length: Math.min(CONCURRENCY, options.count - report.requests) }, () => {
      const operation = random.pick(operations);
      const identity = random.pick(identities);
      return { operation, identity, request: buildRequest(state, operation, identity) };
    });
    const answers = await Promise.all(batch.map(({ request }) => send(request)));
    answers.forEach(({ status, headers, text }, index) => {
      const { operation, identity, request } = batch[index]!;
      const name = `${operation.method} ${operation.path}`;
      const key = `${name} ${status}`;
      report.statuses.set(key, (report.statuses.get(key) ?? 0) + 1);
      const problem = problemOf(operation, status, headers, text);
      if (problem) report.failures.push({ problem, operation: name, identity: identity.name, request, status, response: text.slice(0, 300) });
      else learn(state, operation, headers, text);
    });
    report.requests += batch.length;
  }
  report.milliseconds = Date.now() - started;
  return report;
}

/** Failures grouped by problem and operation, each with one example to replay. */
export function summarize(failures: Failure[]): string[] {
  const groups = new Map<string, { count: number; example: Failure }>();
  for (const failure of failures) {
    const key = `${failure.problem} — ${failure.operation}`;
    const group = groups.get(key);
    if (group) group.count++;
    else groups.set(key, { count: 1, example: failure });
  }
  return [...groups.entries()].map(([key, { count, example }]) => {
    const { authorization: _authorization, ...headers } = example.request.headers;
    const body = example.request.body === undefined ? "" : ` body=${example.request.body.slice(0, 160)}`;
    return `${count}× ${key} as ${example.identity}: ${example.request.method} ${example.request.url.slice(0, 200)} headers=${JSON.stringify(headers)}${body} → ${example.response}`;
  });
}

/** Answers by status, and how many operations answered 2xx at least once: how deep the run got. */
export function coverage(report: FuzzReport, operations: Operation[]): string {
  const byStatus = new Map<number, number>();
  const succeeded = new Set<string>();
  for (const [key, count] of report.statuses) {
    const status = Number(key.slice(key.lastIndexOf(" ") + 1));
    byStatus.set(status, (byStatus.get(status) ?? 0) + count);
    if (status < 300) succeeded.add(key.slice(0, key.lastIndexOf(" ")));
  }
  const statuses = [...byStatus.entries()].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`).join(" ");
  const unreached = operations.map((operation) => `${operation.method} ${operation.path}`).filter((name) => !succeeded.has(name));
  return `${statuses}; ${succeeded.size}/${operations.length} operations answered 2xx (not: ${unreached.join(", ") || "none"})`;
}
