/**
 * The item list's filters (README "Search"): `status`, `agreed`, `has_suggestion`,
 * `suggestion_score_lt`, `assignee_id` (with `review`, tested in row-reviews.test.ts),
 * each judged on what the caller may read, combined, paged by keyset, in one round trip.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { annotate, annotateRows, annotationProject, assign, createJob, setStatus } from "./helpers/annotation.ts";
import { sql, testDb } from "./helpers/db.ts";
import { createUser, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

const db = testDb();

type Item = { row_index: number; agreed: boolean };

let world: { pm: Account; a: Account; b: Account; client: Account; jobId: number };

async function items(account: Account, query: string) {
  const listed = await request("GET", `/api/v1/annotation-jobs/${world.jobId}/items?${query}`, { token: account.token });
  expect(listed.status, JSON.stringify(listed.body)).toBe(200);
  expect(listed.roundTrips).toBe(1);
  return listed.body as { data: Item[]; next_cursor: string | null };
}

async function rows(account: Account, query: string) {
  return (await items(account, query)).data.map((item) => item.row_index);
}

beforeAll(async () => {
  // Two annotators per row over rows 0..3: A answers every row and submits, B answers rows 1 (as A) and 2 (differently).
  const project = await annotationProject({ rows: 4 });
  const [a, b] = await Promise.all([createUser("annotator"), createUser("annotator")]);
  const job = await createJob(project.pm, project.project_id, { table_id: project.table_id, annotations_per_row: 2 });
  await assign(project.pm, job.job_id, a, "annotator");
  await assign(project.pm, job.job_id, b, "annotator");
  await annotateRows(a, job.job_id, 0, 3);
  expect((await setStatus(a, job.job_id, "submitted")).status).toBe(200);
  expect((await annotate(b, job.job_id, 1, { label: "label 1" })).status).toBe(201);
  expect((await annotate(b, job.job_id, 2, { label: "something else" })).status).toBe(201);
  await db.execute(sql`insert into suggestion (table_id, row_index, question, agent, value, score) values
    (${project.table_id}, 0, 'label', 'model', '"x"', 0.9), (${project.table_id}, 2, 'label', 'model', '"y"', 0.2),
    (${project.table_id}, 3, 'label', 'model', '"z"', null)`);
  world = { pm: project.pm, a, b, client: project.client, jobId: job.job_id };
});

describe("GET /annotation-jobs/{job_id}/items filters", () => {
  it("status: unanswered, answered (a response not yet submitted), submitted, as the caller reads the responses", async () => {
    expect(await rows(world.pm, "status=submitted")).toEqual([0, 3]);
    expect(await rows(world.pm, "status=answered")).toEqual([1, 2]);
    expect(await rows(world.pm, "status=unanswered")).toEqual([]);
    // B reads only their own responses: what A answered does not count for them.
    expect(await rows(world.b, "status=unanswered")).toEqual([0, 3]);
    expect(await rows(world.b, "status=answered")).toEqual([1, 2]);
    expect(await rows(world.b, "status=submitted")).toEqual([]);
    expect(await rows(world.a, "status=submitted")).toEqual([0, 1, 2, 3]);
  });

  it("agreed: the same `agreed` the items show", async () => {
    const all = (await items(world.pm, "limit=200")).data;
    expect(all.find((item) => item.row_index === 2)?.agreed).toBe(false);
    expect(await rows(world.pm, "agreed=true")).toEqual(all.filter((item) => item.agreed).map((item) => item.row_index));
    expect(await rows(world.pm, "agreed=false")).toEqual([2]);
    // B's own response agrees with itself: their view of row 2 is agreed.
    expect(await rows(world.b, "agreed=false")).toEqual([0, 3]);
  });

  it("has_suggestion and suggestion_score_lt (unscored suggestions never match a score bound)", async () => {
    expect(await rows(world.pm, "has_suggestion=true")).toEqual([0, 2, 3]);
    expect(await rows(world.pm, "has_suggestion=false")).toEqual([1]);
    expect(await rows(world.pm, "suggestion_score_lt=0.5")).toEqual([2]);
    expect(await rows(world.pm, "suggestion_score_lt=-1")).toEqual([]);
  });

  it("assignee_id: rows that annotator answered, among the responses the caller reads", async () => {
    expect(await rows(world.pm, `assignee_id=${world.b.user_id}`)).toEqual([1, 2]);
    expect(await rows(world.pm, `assignee_id=${world.a.user_id}`)).toEqual([0, 1, 2, 3]);
    // An annotator never learns where another one answered.
    expect(await rows(world.a, `assignee_id=${world.b.user_id}`)).toEqual([]);
    expect(await rows(world.b, `assignee_id=${world.b.user_id}`)).toEqual([1, 2]);
  });

  it("combines filters, and pages them by keyset", async () => {
    expect(await rows(world.pm, `status=answered&assignee_id=${world.b.user_id}&agreed=true`)).toEqual([1]);
    expect(await rows(world.pm, "has_suggestion=true&review=none&status=submitted")).toEqual([0, 3]);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await items(world.pm, `has_suggestion=true&limit=1${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.data.map((item) => item.row_index));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([0, 2, 3]);
  });

  it("answers bad filter values with a 422 naming the parameter", async () => {
    for (const [query, path] of [
      ["status=done", "status"],
      ["agreed=yes", "agreed"],
      ["has_suggestion=1", "has_suggestion"],
      ["suggestion_score_lt=abc", "suggestion_score_lt"],
      ["suggestion_score_lt=Infinity", "suggestion_score_lt"],
      ["assignee_id=0", "assignee_id"],
      ["assignee_id=99999999999", "assignee_id"],
    ] as const) {
      const response = await request("GET", `/api/v1/annotation-jobs/${world.jobId}/items?${query}`, { token: world.pm.token });
      expect(response.status, query).toBe(422);
      expect(response.headers.get("content-type")).toContain("application/problem+json");
      expect(JSON.stringify(response.body.errors), query).toContain(path);
    }
  });
});
