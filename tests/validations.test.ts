import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { runValidation, type ValidationOptions } from "../src/features/validations/validation-run.ts";
import { annotationProject } from "./helpers/annotation.ts";
import { testDb } from "./helpers/db.ts";
import { createUser, registerClient } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import { eventsOf } from "./helpers/projects.ts";
import { parsedCsv } from "./helpers/quality.ts";

const db = testDb();

const CSV = [
  "id,label,amount,code",
  "1,cat,10,AB-1",
  "2,dog,N/A,ab-2",
  ",cat,500,AB-3",
  "2,=bird,-5,",
  "4,cat,7.5,AB-5",
].join("\n");

const RULES = [
  { column: "id", rule: "required" },
  { column: "id", rule: "unique" },
  { column: "amount", rule: "type", type: "number" },
  { column: "amount", rule: "range", min: 0, max: 100 },
  { column: "label", rule: "allowed", values: ["cat", "dog"] },
  { column: "code", rule: "pattern", pattern: "^AB-[0-9]+$" },
];

/** What the rules find in CSV, in (row_index, column, rule) order. */
const EXPECTED = [
  { row_index: 1, column: "amount", rule: "type", value: "N/A" },
  { row_index: 1, column: "code", rule: "pattern", value: "ab-2" },
  { row_index: 2, column: "amount", rule: "range", value: "500" },
  { row_index: 2, column: "id", rule: "required", value: null },
  { row_index: 3, column: "amount", rule: "range", value: "-5" },
  { row_index: 3, column: "id", rule: "unique", value: "2" },
  { row_index: 3, column: "label", rule: "allowed", value: "=bird" },
];

async function projectWithRules() {
  const world = await annotationProject({ rows: 1 });
  const put = await request("PUT", `/api/v1/projects/${world.project_id}/validation-rules`, { token: world.pm.token, body: { rules: RULES } });
  expect(put.status).toBe(200);
  const parsed = await parsedCsv(world, `${CSV}\n`);
  return { world, parsed, put };
}

async function violationsOf(validationId: number) {
  const result = await db.execute(sql`select row_index, "column", rule, value from validation_violation
    where validation_id = ${validationId} order by row_index, "column", rule`);
  return result.rows;
}

/** A run written straight to the database, so no queue message races the test's own deliveries. */
async function insertRun(projectId: number, orgId: number, tableId: number, rows: number): Promise<number> {
  const result = await db.execute(sql`insert into validation_run (project_id, org_id, table_id, rules, total_rows)
    values (${projectId}, ${orgId}, ${tableId}, ${JSON.stringify(RULES)}::jsonb, ${rows}) returning validation_id`);
  return (result.rows[0] as { validation_id: number }).validation_id;
}

async function waitFinished(validationId: number, token: string) {
  for (let attempt = 0; attempt < 150; attempt++) {
    const run = await request("GET", `/api/v1/validations/${validationId}`, { token });
    if (run.body.status === "succeeded" || run.body.status === "failed") return run;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`validation ${validationId} did not finish`);
}

describe("validation rules", () => {
  it("are replaced with PUT (one round trip, audited) and read with GET (one round trip)", async () => {
    const { world, put } = await projectWithRules();
    expect(put.roundTrips).toBe(1);
    expect(put.body).toMatchObject({ project_id: world.project_id, rules: RULES });
    const events = await eventsOf("project", world.project_id);
    expect(events.at(-1)).toMatchObject({ action: "project.update_validation_rules", after: { validation_rules: RULES } });
    const get = await request("GET", `/api/v1/projects/${world.project_id}/validation-rules`, { token: world.client.token });
    expect(get.status).toBe(200);
    expect(get.roundTrips).toBe(1);
    expect(get.body.rules).toEqual(RULES);
  });

  it("refuses duplicate rules, empty ranges, unknown kinds and patterns PostgreSQL cannot compile (422); client members may not change them (403)", async () => {
    const world = await annotationProject({ rows: 1 });
    const put = (rules: unknown[], token = world.pm.token) => request("PUT", `/api/v1/projects/${world.project_id}/validation-rules`, { token, body: { rules } });
    expect((await put([{ column: "a", rule: "required" }, { column: "a", rule: "required" }])).status).toBe(422);
    expect((await put([{ column: "a", rule: "range" }])).status).toBe(422);
    expect((await put([{ column: "a", rule: "range", min: 5, max: 1 }])).status).toBe(422);
    expect((await put([{ column: "a", rule: "nonsense" }])).status).toBe(422);
    const badPattern = await put([{ column: "a", rule: "pattern", pattern: "(unclosed" }]);
    expect(badPattern.status).toBe(422);
    expect(badPattern.body.errors[0].path).toBe("body.rules");
    const member = await createUser("client_member", world.org_id);
    expect((await put([{ column: "a", rule: "required" }], member.token)).status).toBe(403);
    expect((await request("GET", `/api/v1/projects/${world.project_id}/validation-rules`, { token: world.pm.token })).body.rules).toEqual([]);
  });
});

describe("validation runs", () => {
  it("run as a queue job: 202 with progress, then every violation once, listed by keyset and downloadable as CSV", async () => {
    const { world, parsed } = await projectWithRules();
    const created = await request("POST", `/api/v1/file-tables/${parsed.table_id}/validations`, { token: world.pm.token });
    expect(created.status).toBe(202);
    expect(created.roundTrips).toBe(1);
    expect(created.body).toMatchObject({ table_id: parsed.table_id, status: "queued", progress: { done: 0, total: 5 }, violation_count: 0, rules: RULES });
    const validationId = created.body.validation_id;
    expect((await eventsOf("validation_run", validationId))[0]).toMatchObject({ action: "validation_run.create" });

    const finished = await waitFinished(validationId, world.client.token);
    expect(finished.roundTrips).toBe(1);
    expect(finished.body).toMatchObject({ status: "succeeded", progress: { done: 5, total: 5 }, violation_count: EXPECTED.length });

    const pages = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof request>> = await request("GET", `/api/v1/validations/${validationId}/violations?limit=3${cursor ? `&cursor=${cursor}` : ""}`, { token: world.client.token });
      expect(page.status).toBe(200);
      expect(page.roundTrips).toBe(1);
      pages.push(...(page.body as { data: unknown[] }).data);
      cursor = (page.body as { next_cursor: string | null }).next_cursor;
    } while (cursor);
    expect(pages).toEqual(EXPECTED);

    const csv = await request("GET", `/api/v1/validations/${validationId}/violations.csv`, { token: world.client.token });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    expect(csv.body).toBe([
      "row_index,column,rule,value",
      "1,amount,type,N/A",
      "1,code,pattern,ab-2",
      "2,amount,range,500",
      "2,id,required,",
      `3,amount,range,"'-5"`,
      "3,id,unique,2",
      `3,label,allowed,"'=bird"`,
      "",
    ].join("\r\n"));
  });

  it("is 409 without rules, 403 for a client member, 404 for another organization", async () => {
    const world = await annotationProject({ rows: 2 });
    expect((await request("POST", `/api/v1/file-tables/${world.table_id}/validations`, { token: world.pm.token })).status).toBe(409);
    const member = await createUser("client_member", world.org_id);
    expect((await request("POST", `/api/v1/file-tables/${world.table_id}/validations`, { token: member.token })).status).toBe(403);
    const stranger = await registerClient();
    expect((await request("POST", `/api/v1/file-tables/${world.table_id}/validations`, { token: stranger.token })).status).toBe(404);
    const runId = await insertRun(world.project_id, world.org_id, world.table_id, 2);
    expect((await request("GET", `/api/v1/validations/${runId}`, { token: stranger.token })).status).toBe(404);
    expect((await request("GET", `/api/v1/validations/${runId}/violations`, { token: stranger.token })).status).toBe(404);
    expect((await request("GET", `/api/v1/validations/${runId}/violations.csv`, { token: stranger.token })).status).toBe(404);
  });
});

describe("exactly once", () => {
  const chunked: ValidationOptions = { chunkRows: 2, sliceMs: 0 };

  /**
   * Delivers the run's message, and each continuation, twice in a row (3 chunks of 2, 2
   * and 1 rows). `crashAt`: the delivery that makes the k-th commit dies right after it.
   */
  async function deliverTwice(validationId: number, crashAt: number | null) {
    const outcomes: string[] = [];
    let commits = 0;
    const crashing: ValidationOptions = { ...chunked, faults: { afterCommit: () => { commits += 1; if (commits === crashAt) throw new Error("isolate killed"); } } };
    for (let more = true; more;) {
      const first = await runValidation(db, validationId, crashing).catch((error: Error) => error.message);
      const second = await runValidation(db, validationId, crashing).catch((error: Error) => error.message);
      outcomes.push(first, second);
      more = [first, second].some((outcome) => outcome === "continue" || outcome === "isolate killed");
    }
    return outcomes;
  }

  for (const crashAt of [null, 1, 2, 3]) {
    it(`two deliveries of every message${crashAt === null ? "" : ` and a crash after commit ${crashAt}`} record each violation exactly once`, async () => {
      const { world, parsed } = await projectWithRules();
      const validationId = await insertRun(world.project_id, world.org_id, parsed.table_id, 5);
      const outcomes = await deliverTwice(validationId, crashAt);
      if (crashAt !== null) expect(outcomes).toContain("isolate killed");
      expect(await violationsOf(validationId)).toEqual(EXPECTED);
      const run = await db.execute(sql`select status, next_row, violation_count, (select count(*)::int from validation_seen_value s where s.validation_id = ${validationId}) as seen
        from validation_run where validation_id = ${validationId}`);
      expect(run.rows[0]).toEqual({ status: "succeeded", next_row: 5, violation_count: EXPECTED.length, seen: 0 });
      expect(await runValidation(db, validationId, chunked)).toBe("finished");
    });
  }
});

describe("concurrent deliveries", () => {
  it("two deliveries of the same message at once: one claims each chunk, the other stops, nothing is recorded twice", async () => {
    const { world, parsed } = await projectWithRules();
    const validationId = await insertRun(world.project_id, world.org_id, parsed.table_id, 5);
    const options: ValidationOptions = { chunkRows: 1, sliceMs: 60_000 };
    const outcomes = await Promise.all([runValidation(db, validationId, options), runValidation(db, validationId, options)]);
    expect(outcomes).toContain("succeeded");
    expect(await violationsOf(validationId)).toEqual(EXPECTED);
  });
});
