import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { hash32, HyperLogLog } from "../src/features/dataset-profile/hyperloglog.ts";
import { SpaceSaving } from "../src/features/dataset-profile/heavy-hitters.ts";
import { DEFAULT_PARSE_OPTIONS, runParseMessage, type ParseOptions } from "../src/features/parsing/parse-run.ts";
import { annotationProject } from "./helpers/annotation.ts";
import { testDb } from "./helpers/db.ts";
import { registerClient } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import { createParseTarget, parseDependencies, recordingQueue } from "./helpers/parse.ts";
import { parsedCsv, parseVersion } from "./helpers/quality.ts";

/**
 * Profiles are computed by the parse itself; these tests parse real files and read the
 * profile back through the API, and check that a chunked parse interrupted anywhere
 * ends with the same profile as a clean one.
 */
const SAMPLE = [
  "id,label,amount,day,note",
  "1,cat,10,2024-01-05,",
  "2,dog,N/A,2024-03-01,x",
  "3,cat,2.5,2023-12-31,",
  "4,cat,-7,2024-02-29,",
  ",,,,",
  "3,cat,2.5,2023-12-31,",
  "5,bird,100,2024-01-01,",
].join("\n");

describe("GET /file-tables/{table_id}/profile", () => {
  it("answers the parse-time profile in one round trip: exact counts, extremes, top values, duplicates, empty rows", async () => {
    const world = await annotationProject({ rows: 1 });
    const parsed = await parsedCsv(world, `${SAMPLE}\n`);
    const response = await request("GET", `/api/v1/file-tables/${parsed.table_id}/profile`, { token: world.client.token });
    expect(response.status).toBe(200);
    expect(response.roundTrips).toBe(1);
    const body = response.body;
    expect(body).toMatchObject({ table_id: parsed.table_id, row_count: 7, duplicate_rows: 1, empty_rows: 1 });
    const [id, label, amount, day, note] = body.columns;
    expect(id).toEqual({
      name: "id", type: "integer", expected_type: "integer", non_null: 6, nulls: 1, distinct: 5, min: 1, max: 5,
      top: [{ value: "3", count: 2, exact: true }, { value: "1", count: 1, exact: true }, { value: "2", count: 1, exact: true }, { value: "4", count: 1, exact: true }, { value: "5", count: 1, exact: true }],
      type_violations: 0, type_counts: { integer: 6 },
    });
    expect(label).toMatchObject({ type: "string", expected_type: "string", distinct: 3, min: "bird", max: "dog", type_violations: 0 });
    expect(label.top.slice(0, 2)).toEqual([{ value: "cat", count: 4, exact: true }, { value: "bird", count: 1, exact: true }]);
    // One "N/A" among numbers: the table calls the column string, the profile counts the odd value out.
    expect(amount).toMatchObject({ type: "string", expected_type: "number", min: -7, max: 100, type_violations: 1, type_counts: { integer: 3, number: 2, string: 1 } });
    expect(day).toMatchObject({ type: "date", expected_type: "date", min: "2023-12-31", max: "2024-03-01", distinct: 5 });
    expect(note).toMatchObject({ type: "string", non_null: 1, nulls: 6, distinct: 1, min: "x", max: "x" });
  });

  it("is 404 for another organization and 409 for a table parsed before profiles existed", async () => {
    const world = await annotationProject({ rows: 2 });
    const parsed = await parsedCsv(world, `${SAMPLE}\n`);
    const stranger = await registerClient();
    expect((await request("GET", `/api/v1/file-tables/${parsed.table_id}/profile`, { token: stranger.token })).status).toBe(404);
    const unprofiled = await request("GET", `/api/v1/file-tables/${world.table_id}/profile`, { token: world.pm.token });
    expect(unprofiled.status).toBe(409);
    expect(unprofiled.headers.get("content-type")).toContain("application/problem+json");
  });

  it("profiles typed sources by their own types (JSON Lines)", async () => {
    const lines = [{ a: 1, b: true, c: { x: 1 } }, { a: 2.5, b: false, c: [1] }, { a: null, b: true, d: "2024-01-01T10:00:00Z" }];
    const target = await createParseTarget({ filename: "t.jsonl", contentType: "application/x-ndjson", bytes: new TextEncoder().encode(lines.map((line) => JSON.stringify(line)).join("\n")) });
    const tableId = await parseVersion(target.version_id);
    const profile = await storedProfile(tableId);
    expect(profile.columns.map((column: { name: string; type: string; non_null: number; min: unknown; max: unknown }) => [column.name, column.type, column.non_null, column.min, column.max])).toEqual([
      ["a", "number", 2, 1, 2.5],
      ["b", "boolean", 3, null, null],
      ["c", "json", 2, null, null],
      ["d", "datetime", 1, "2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z"],
    ]);
    expect(profile.columns[1].top).toEqual([{ value: "true", count: 2, exact: true }, { value: "false", count: 1, exact: true }]);
  });
});

async function storedProfile(tableId: number) {
  const result = await testDb().execute(sql`select profile from file_table where table_id = ${tableId}`);
  return (result.rows[0] as { profile: any }).profile;
}

/** 3,000 rows: a unique id, a label with one heavy hitter among many rare values, a repeated row every 100. */
function largeCsv(): string {
  const lines = ["id,label,group"];
  for (let i = 0; i < 3_000; i++) {
    const id = i % 100 === 99 ? i - 1 : i;
    const label = id % 3 === 0 ? "common" : `rare ${id}`;
    lines.push(`${id},${label},${id % 7}`);
  }
  return `${lines.join("\n")}\n`;
}

const small: ParseOptions = { chunkRows: 250, chunkPayloadBytes: DEFAULT_PARSE_OPTIONS.chunkPayloadBytes };

describe("profile under chunking, redelivery and crashes", () => {
  it("a chunked parse with every message delivered twice and a crash after a chunk ends with the clean run's profile", async () => {
    const bytes = new TextEncoder().encode(largeCsv());
    const clean = await createParseTarget({ filename: "large.csv", contentType: "text/csv", bytes });
    const cleanProfile = await storedProfile(await parseVersion(clean.version_id));

    const target = await createParseTarget({ filename: "large.csv", contentType: "text/csv", bytes });
    const { queue, sent } = recordingQueue();
    const deps = parseDependencies(queue);
    const crashing: ParseOptions = { ...small, faults: { afterCommit: (chunk) => { if (chunk === 5) throw new Error("isolate killed"); } } };
    const outcomes = [];
    for (let next: typeof sent[number] | undefined = { kind: "parse", version_id: target.version_id }; next; next = sent.shift()) {
      const message: typeof next = next;
      const first = await runParseMessage(message, deps, crashing).catch((error: Error) => error.message);
      // Redelivered: after a crash the retry hands the next chunk off; otherwise it is a duplicate.
      outcomes.push(first, await runParseMessage(message, deps, small));
    }
    expect(outcomes).toContain("isolate killed");
    expect(outcomes).toContain("handed-off");
    expect(outcomes.filter((outcome) => outcome === "succeeded")).toHaveLength(1);
    const tables = await testDb().execute(sql`select table_id from file_table where version_id = ${target.version_id} and state = 'active'`);
    expect(await storedProfile((tables.rows[0] as { table_id: number }).table_id)).toEqual(cleanProfile);

    expect(cleanProfile).toMatchObject({ row_count: 3_000, duplicate_rows: 30, empty_rows: 0 });
    const [id, label, group] = cleanProfile.columns;
    expect(id).toMatchObject({ non_null: 3_000, min: 0, max: 2_998 });
    // 2,970 distinct ids: within 3 standard errors (3 × 3.25 %) of the truth.
    expect(Math.abs(id.distinct - 2_970) / 2_970).toBeLessThan(0.0975);
    expect(group.distinct).toBe(7);
    // "common" holds a third of the values: a heavy hitter is always found, its count an upper bound.
    expect(label.top[0].value).toBe("common");
    expect(label.top[0].count).toBeGreaterThanOrEqual(1_000);
    expect(label.top[0].count).toBeLessThanOrEqual(1_000 + 3_000 / 16);
  });
});

describe("sketches", () => {
  it("HyperLogLog estimates within its documented error and survives serialisation", () => {
    for (const n of [10, 1_000, 50_000]) {
      const sketch = new HyperLogLog();
      for (let i = 0; i < n; i++) sketch.add(`value ${i}`);
      const copy = new HyperLogLog(sketch.serialise());
      expect(copy.estimate()).toBe(sketch.estimate());
      expect(Math.abs(sketch.estimate() - n) / n).toBeLessThan(n <= 1_000 ? 0.02 : 0.0975);
    }
    expect(hash32("a")).not.toBe(hash32("b"));
    expect(hash32("ab")).toBe(hash32("ab"));
  });

  it("space-saving keeps every value above n/16 and bounds each count's error", () => {
    const sketch = new SpaceSaving();
    for (let i = 0; i < 1_000; i++) sketch.add(i % 4 === 0 ? "quarter" : `noise ${i}`);
    const [top] = sketch.top(1);
    expect(top!.value).toBe("quarter");
    expect(top!.count).toBeGreaterThanOrEqual(250);
    expect(top!.count).toBeLessThanOrEqual(250 + 1_000 / 16);
    expect(new SpaceSaving(sketch.state()).top(5)).toEqual(sketch.top(5));
  });
});
