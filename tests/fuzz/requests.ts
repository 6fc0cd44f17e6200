/**
 * One fuzz request for an operation: its path, query, headers and body drawn from the
 * operation's schema, mostly plausible and often hostile (see values.ts).
 */
import type { Operation, Parameter } from "./openapi.ts";
import type { Random } from "./prng.ts";
import { deepMarker, HOSTILE_STRINGS, hostileFor, hostileValue, plausibleValue, type IdPool } from "./values.ts";

/** A role to fuzz as: its bearer credentials (an access token and API tokens, each with its own rate budget), none when anonymous. */
export type Identity = { name: string; tokens: string[] };

export type FuzzState = {
  random: Random;
  pool: IdPool;
  /** ETags seen on responses, replayed as If-Match. */
  etags: string[];
  /** next_cursor values seen, by templated path. */
  cursors: Map<string, string[]>;
  idempotencyKeys: string[];
  /** 0 while drawing a plausible request (every hostile choice off), 1 for a hostile one. */
  hostility: number;
};

/** A hostile choice with probability `p`, never in a plausible request (the draw is made either way, so seeds replay). */
function hostile(state: FuzzState, p: number): boolean {
  return state.random.chance(p) && state.hostility > 0;
}

/** Share of requests drawn wholly plausible, so runs reach the handlers' deeper paths, not only validation. */
const PLAUSIBLE_SHARE = 0.35;

export type FuzzRequest = { method: string; url: string; headers: Record<string, string>; body?: string };

const HOSTILE_PATH_VALUES = ["%2F", "%201", "+1", "01", "1;1", "0", "-1", "2147483648", "9223372036854775808", "99999999999999999999999", "abc", "", "1.5", "1e10", "%00", "0x10", "%20", "%EF%BC%91", "2147483647", "-2147483649", "Infinity", "NaN"];
const HOSTILE_LIMITS = ["0", "201", "100000", "-5", "abc", "1e3", "9223372036854775808", "", "1.5"];
const CURSOR_SORTS = ["id", "-id", "name", "-name", "created_at", "-created_at", "row_index", "token_id", "comment_id", "review_id", "assignment_id", "version", "due_date", "-priority"];
const HOSTILE_IF_MATCH = ["garbage", "*", '"a", "b"', 'W/"abc"', '"', '""', '"not base64!"', '"Ijk5OTk5OTk5OTk5OTk5OTk5OTk5Ig"', "\"\"\"", "W/", ' "MjAyNi0wMi0zMCAyNTowMDowMCswMA" '];
const DEEP_MARKER = /"\\u0001deep:(\d+):([ao])\\u0001"/g;
const RAW_MARKER = /"\\u0001raw:([^"\\]+)\\u0001"/g;

function base64Url(text: string) {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text))).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** JSON text; markers of raw numbers and of very deep nesting (JSON.stringify would recurse that deep) are spliced in as text. */
export function serialize(value: unknown): string {
  return JSON.stringify(value)
    .replace(RAW_MARKER, (_match, text: string) => text)
    .replace(DEEP_MARKER, (_match, depth: string, kind: string) => {
      const count = Number(depth);
      return kind === "a" ? `${"[".repeat(count)}1${"]".repeat(count)}` : `${'{"a":'.repeat(count)}1${"}".repeat(count)}`;
    });
}

function randomDeepMarker(random: Random): string {
  return deepMarker(random.pick([65, 1_000, 100_000]), random.chance(0.5));
}

function hostileCursor(random: Random, sorts: string[]): string {
  const sort = random.pick(sorts);
  const forged: unknown[] = [
    [sort, "x", 2 ** 40],
    [sort, null, 2 ** 31],
    [sort, null, 2 ** 63],
    [sort, "a\u0000b", 1],
    [sort, "2026-99-99 00:00:00+00", 1],
    [sort, 2 ** 31, 1],
    [sort, { a: 1 }, "abc"],
    [sort, null, 1.5],
    [sort, null, -1],
    [sort],
    {},
  ];
  return random.pick([
    "!!!",
    "a",
    "eyJ",
    "%00",
    "x".repeat(600),
    base64Url("not json"),
    base64Url(JSON.stringify(random.pick(forged))),
  ]);
}

function queryValue(state: FuzzState, operation: Operation, parameter: Parameter): string {
  const { random } = state;
  const bad = hostile(state, 0.25);
  if (parameter.name === "limit") return bad ? random.pick(HOSTILE_LIMITS) : String(random.int(1, 200));
  if (parameter.name === "cursor") {
    const seen = state.cursors.get(operation.path) ?? [];
    if (!bad && seen.length > 0) return random.pick(seen);
    if (!bad) return "";
    const sorts = (operation.parameters.find((candidate) => candidate.name === "sort")?.schema.enum as string[] | undefined) ?? CURSOR_SORTS;
    return hostileCursor(random, [...sorts, ...CURSOR_SORTS]);
  }
  if (bad && random.chance(0.5)) return String(hostileFor(random, parameter.schema)).slice(0, 300);
  if (bad) return random.pick([...HOSTILE_STRINGS.filter((text) => text.length < 300), "bogus", "2147483648", "-1"]);
  const schema = parameter.schema.type === "boolean" ? { enum: ["true", "false"] } : parameter.schema;
  const value = plausibleValue(random, schema, parameter.name, state.pool);
  return typeof value === "string" ? value : JSON.stringify(value);
}

function pathValue(state: FuzzState, operation: Operation, parameter: Parameter): string {
  const { random } = state;
  if (hostile(state, 0.3)) return random.pick(HOSTILE_PATH_VALUES);
  const id = state.pool.pick(random, parameter.name, operation.method) ?? (parameter.name === "row_index" ? random.int(0, 6) : random.int(1, 60));
  // A guessed id may be one of the run's own credentials, accounts or fixture: aim past it.
  return String(state.pool.isGuarded(parameter.name, id, operation.method) ? 2_147_483_647 : id);
}

function bodyOf(state: FuzzState, operation: Operation): unknown {
  const { random } = state;
  const schema = operation.body!;
  const valid = plausibleValue(random, schema, "body", state.pool);
  const roll = random.next();
  if (roll < 0.5 || state.hostility === 0 || !valid || typeof valid !== "object" || Array.isArray(valid)) return valid;
  const body = valid as Record<string, unknown>;
  const properties = Object.keys(schema.properties ?? {});
  const field = properties.length > 0 ? random.pick(properties) : "field";
  if (roll < 0.62) delete body[random.pick((schema.required as string[] | undefined) ?? [field])];
  else if (roll < 0.85) body[field] = random.chance(0.15) ? randomDeepMarker(random) : hostileFor(random, schema.properties?.[field] ?? {});
  else if (roll < 0.9) body[`unexpected_${random.int(0, 9)}`] = hostileValue(random);
  else return random.chance(0.5) ? hostileValue(random) : randomDeepMarker(random);
  return body;
}

function headersOf(state: FuzzState, operation: Operation, identity: Identity): Record<string, string> {
  const { random } = state;
  const headers: Record<string, string> = {};
  if (identity.tokens.length > 0) {
    const token = random.pick(identity.tokens);
    headers.authorization = hostile(state, 0.05) ? random.pick(["Bearer garbage", "Basic YTpi", "Bearer ", `Bearer ${token}x`]) : `Bearer ${token}`;
  }
  const declares = (name: string) => operation.parameters.some((parameter) => parameter.in === "header" && parameter.name.toLowerCase() === name);
  if (declares("if-match") && hostile(state, 0.5)) {
    headers["if-match"] = state.etags.length > 0 && random.chance(0.5) ? random.pick(state.etags) : random.pick(HOSTILE_IF_MATCH);
  }
  if (declares("idempotency-key") && random.chance(0.4)) {
    const reuse = state.idempotencyKeys.length > 0 && hostile(state, 0.2);
    const key = reuse ? random.pick(state.idempotencyKeys) : hostile(state, 0.1) ? random.pick(["x".repeat(256), "a b", "*", " "]) : crypto.randomUUID();
    if (!reuse) state.idempotencyKeys.push(key);
    headers["idempotency-key"] = key;
  }
  return headers;
}

export function buildRequest(state: FuzzState, operation: Operation, identity: Identity): FuzzRequest {
  const { random } = state;
  state.hostility = random.chance(PLAUSIBLE_SHARE) ? 0 : 1;
  let url = operation.path;
  const query = new URLSearchParams();
  for (const parameter of operation.parameters) {
    if (parameter.in === "path") url = url.replace(`{${parameter.name}}`, pathValue(state, operation, parameter));
    else if (parameter.in === "query" && (parameter.required || random.chance(0.35))) query.set(parameter.name, queryValue(state, operation, parameter));
  }
  if (hostile(state, 0.05)) query.set(`unknown_${random.int(0, 9)}`, "1");
  if (query.size > 0) url += `?${query}`;
  const headers = headersOf(state, operation, identity);
  if (!operation.body) return { method: operation.method, url, headers };
  const roll = random.next() + (1 - state.hostility);
  if (roll < 0.03) return { method: operation.method, url, headers: { ...headers, "content-type": "application/json" }, body: random.pick(["{bad", "", "[", "nul"]) };
  if (roll < 0.05) return { method: operation.method, url, headers: { ...headers, "content-type": "text/plain" }, body: serialize(bodyOf(state, operation)) };
  return { method: operation.method, url, headers: { ...headers, "content-type": "application/json" }, body: serialize(bodyOf(state, operation)) };
}
