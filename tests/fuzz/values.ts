/**
 * Values for a JSON schema: plausible ones (what a correct client sends, with the ids
 * the run has seen) and hostile ones (wrong types, NUL characters, huge numbers, long
 * and exotic strings, deep nesting) that must never make the API answer 5xx.
 */
import type { Random } from "./prng.ts";
import { typesOf, type Schema } from "./openapi.ts";

/** The ids the run has created or read, by field name (`project_id` → [12, 40]). */
export class IdPool {
  private readonly ids = new Map<string, number[]>();
  /**
   * Ids some requests must leave alone, by field: the run's own accounts, organizations
   * and API tokens (no mutation may touch them, or the identities would lose their
   * credentials) and its fixture (no DELETE, or every later request would be a 404).
   */
  private readonly guarded = new Map<string, { id: number; from: "mutation" | "delete" }[]>();
  /** Real values for text fields (an identity's email, the test password), so sign-in can succeed. */
  readonly texts = new Map<string, string[]>();

  add(name: string, id: number) {
    const list = this.ids.get(name) ?? [];
    if (!list.includes(id)) list.push(id);
    const evictable = list.findIndex((known) => !this.guardOf(name, known));
    if (list.length > 50 && evictable >= 0) list.splice(evictable, 1);
    this.ids.set(name, list);
  }

  guard(name: string, id: number, from: "mutation" | "delete") {
    this.guarded.set(name, [...(this.guarded.get(name) ?? []), { id, from }]);
    this.add(name, id);
  }

  /** Every `*_id` (and row_index) with an integer value anywhere in a response body. */
  harvest(body: unknown, depth = 0) {
    if (depth > 8 || !body || typeof body !== "object") return;
    for (const [key, value] of Object.entries(body)) {
      if ((key.endsWith("_id") || key === "row_index") && Number.isSafeInteger(value)) this.add(key, value as number);
      else this.harvest(value, depth + 1);
    }
  }

  private guardOf(name: string, id: number) {
    return this.guarded.get(ALIASES[name] ?? name)?.find((entry) => entry.id === id);
  }

  /** Whether a request with this method must not aim at the id (body and query references never destroy anything). */
  isGuarded(name: string, id: number, method: string): boolean {
    const guard = this.guardOf(name, id);
    return guard !== undefined && method !== "GET" && (guard.from === "mutation" || method === "DELETE");
  }

  /** A known id for a path field that a `method` request may aim at; undefined when none is known. */
  pick(random: Random, name: string, method = "GET"): number | undefined {
    const known = (this.ids.get(ALIASES[name] ?? name) ?? []).filter((id) => !this.isGuarded(name, id, method));
    return known.length > 0 ? random.pick(known) : undefined;
  }
}

const ALIASES: Record<string, string> = {
  assignee_id: "user_id",
  our_pm_id: "user_id",
  client_pm_id: "user_id",
  actor_id: "user_id",
  updated_by: "user_id",
  parent_comment_id: "comment_id",
  current_version_id: "version_id",
  file_version_id: "version_id",
};

export const HOSTILE_NUMBERS = [0, -1, 2 ** 31, 2 ** 31 - 1, -(2 ** 31) - 1, 2 ** 53, 2 ** 63, 1e308, 1.5, -0.0001];

export const HOSTILE_STRINGS = [
  "",
  " ",
  "a\u0000b",
  "\u0000",
  "x".repeat(10_001),
  "名前 😀 \u202e\u200b e\u0301",
  "\ud800 lone surrogate",
  "'; drop table project; --",
  "%_\\",
  "../../etc/passwd",
  "<script>alert(1)</script>",
  "=cmd|' /C calc'!A0",
  "2147483648",
  "9223372036854775808",
  "-1",
  "null",
  "true",
  "9999-99-99",
  "2026-02-30T25:61:61Z",
];

/** Dates zod's ISO shapes may pass but Postgres refuses (year 0, beyond its range) or that do not exist. */
export const HOSTILE_DATES = ["0000-01-01", "2026-02-29", "2026-02-30", "9999-12-31", "275760-09-13", "0000-01-01T00:00:00Z", "2026-12-31T24:00:00Z", "+275760-09-13T00:00:00.000Z", "-000001-01-01T00:00:00Z", "2026-06-01T00:00:00+25:00", "2026-06-01T00:00:00+23:00", "2026-06-01T00:00:00-16:00", "2026-06-01"];

/** Numbers JSON can spell but a JS value cannot: spliced raw into the body by serialize(). */
export const RAW_NUMBERS = ["1e400", "-1e400", "123456789012345678901234567890", "-0", "0.1e-400", "1E2"];

export function rawMarker(text: string): string {
  return `\u0001raw:${text}\u0001`;
}

/** A hostile value aimed at a field's schema (its format, type or enum), else any hostile value. */
export function hostileFor(random: Random, schema: Schema): unknown {
  if (random.chance(0.3)) return hostileValue(random);
  if (schema.format === "date" || schema.format === "date-time") return random.pick(HOSTILE_DATES);
  const types = typesOf(schema);
  if (types.includes("integer") || types.includes("number")) {
    return random.chance(0.3) ? rawMarker(random.pick(RAW_NUMBERS)) : random.pick([...HOSTILE_NUMBERS, schema.maximum + 1, schema.minimum - 1].filter((value) => Number.isFinite(value)));
  }
  if (schema.enum) return random.pick(["bogus", "", String(schema.enum[0]).toUpperCase(), ` ${schema.enum[0]}`]);
  if (typeof schema.maxLength === "number") return "z".repeat(schema.maxLength + 1);
  return hostileValue(random);
}

/** Nested arrays or objects `depth` levels deep. */
export function deeplyNested(depth: number, objects: boolean): unknown {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = objects ? { a: value } : [value];
  return value;
}

/**
 * Nesting too deep to build as a value (JSON.stringify would recurse that deep): a
 * marker string that requests.ts's serialize() splices out as raw JSON text.
 */
export function deepMarker(depth: number, objects: boolean): string {
  return `\u0001deep:${depth}:${objects ? "o" : "a"}\u0001`;
}

export function hostileValue(random: Random): unknown {
  switch (random.int(0, 6)) {
    case 0:
      return random.pick(HOSTILE_NUMBERS);
    case 1:
    case 2:
      return random.pick(HOSTILE_STRINGS);
    case 3:
      return random.pick([null, true, false, [], {}, [1, "a", null], { nested: "\u0000" }]);
    case 4: {
      const depth = random.pick([63, 64, 65, 100, 1_000, 100_000]);
      return depth <= 100 ? deeplyNested(depth, random.chance(0.5)) : deepMarker(depth, random.chance(0.5));
    }
    case 5:
      return { ["key\u0000"]: 1, "": "empty key", ["\ud83d"]: "surrogate key" };
    default:
      return "y".repeat(random.pick([201, 256, 2_001, 20_001, 200_000]));
  }
}

const WORDS = ["alpha", "Beta", "gamma 3", "délta", "fuzz", "Q4 review", "項目"];

function plausibleString(random: Random, schema: Schema, name: string, pool: IdPool): string {
  if (Array.isArray(schema.enum)) return random.pick(schema.enum);
  const known = pool.texts.get(name);
  if (known && random.chance(0.5)) return random.pick(known);
  if (schema.format === "email" || name.endsWith("email")) return `fuzz-${random.int(0, 1e9)}@fuzz.test`;
  if (schema.format === "date") return random.pick(["2026-12-31", "2027-01-15", "2025-06-01"]);
  if (schema.format === "date-time") return new Date(Date.now() + random.int(-1e10, 1e10)).toISOString();
  if (name.includes("password")) return `pw-${random.int(0, 1e9)}-correct-horse`;
  if (name === "sha256") return "a".repeat(64);
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 40, 40);
  let text = `${random.pick(WORDS)} ${random.int(0, 1e6)}`;
  while (text.length < min) text += " pad";
  return text.slice(0, Math.max(min, Math.min(max, text.length)));
}

function plausibleNumber(random: Random, schema: Schema, integer: boolean): number {
  const low = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + (integer ? 1 : 0.01) : 0);
  const high = Math.min(schema.maximum ?? low + 1000, low + 1000);
  const value = low + random.next() * (high - low);
  return integer ? Math.round(value) : Math.round(value * 100) / 100;
}

/**
 * A value a careful client could send for `schema` (ids drawn from the pool when it knows
 * any, guarded ones included: a reference in a body or a filter destroys nothing).
 */
export function plausibleValue(random: Random, schema: Schema, name: string, pool: IdPool, depth = 0): unknown {
  const types = typesOf(schema);
  if (types.includes("null") && random.chance(0.1)) return null;
  const type = types.find((candidate) => candidate !== "null") ?? random.pick(["string", "integer", "object"]);
  switch (type) {
    case "integer":
    case "number": {
      if (name.endsWith("_id")) return pool.pick(random, name) ?? random.int(1, 50);
      if (name === "row_index" || name.startsWith("row_")) return random.int(0, 4);
      return plausibleNumber(random, schema, type === "integer");
    }
    case "boolean":
      return random.chance(0.5);
    case "array": {
      const count = random.int(schema.minItems ?? 0, Math.min(schema.maxItems ?? 3, 3));
      return Array.from({ length: count }, () => plausibleValue(random, schema.items ?? {}, name, pool, depth + 1));
    }
    case "object": {
      if (depth > 4) return {};
      const required = new Set<string>(schema.required ?? []);
      const entries = Object.entries((schema.properties ?? {}) as Record<string, Schema>)
        .filter(([property]) => required.has(property) || random.chance(0.5))
        .map(([property, propertySchema]) => [property, plausibleValue(random, propertySchema, property, pool, depth + 1)]);
      if (!schema.properties && schema.additionalProperties !== false) entries.push(["label", random.pick(WORDS)]);
      return Object.fromEntries(entries);
    }
    default:
      return plausibleString(random, schema, name, pool);
  }
}
