/**
 * GET /projects/{project_id}/stats (README "Statistics"): per annotator (rows answered,
 * submitted, reviewed and rejected, rejection rate, agreement with `final`, median
 * seconds per row from lead_time_ms), per agent (acceptance rate per question), overdue
 * jobs and progress, in one round trip. And lead_time_ms on saves: optional, validated.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { sql, testDb } from "./helpers/db.ts";
import { annotationProject, assign, createJob, setStatus, type AnnotationProject } from "./helpers/annotation.ts";
import { createUser, registerClient, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

const db = testDb();

const QUESTIONS = [
  { name: "sentiment", type: "label", required: true, options: ["pos", "neg"] },
  { name: "tags", type: "multi_label", required: false, options: ["a", "b", "c"] },
];

const statsPath = (projectId: number) => `/api/v1/projects/${projectId}/stats`;

function save(account: Account, jobId: number, row: number, data: Record<string, unknown>, leadTimeMs?: number) {
  return request("PUT", `/api/v1/annotation-jobs/${jobId}/items/${row}/annotation`, {
    token: account.token,
    body: leadTimeMs === undefined ? { data } : { data, lead_time_ms: leadTimeMs },
  });
}

async function saved(account: Account, jobId: number, row: number, data: Record<string, unknown>, leadTimeMs?: number) {
  const response = await save(account, jobId, row, data, leadTimeMs);
  expect([200, 201], JSON.stringify(response.body)).toContain(response.status);
}

let project: AnnotationProject;
let first: Account;
let second: Account;
let idle: Account;
let reviewer: Account;
let jobId: number;
let overdueJobId: number;

beforeAll(async () => {
  project = await annotationProject({ rows: 4 });
  const schema = await request("PUT", `/api/v1/projects/${project.project_id}/label-schema`, { token: project.pm.token, body: { questions: QUESTIONS } });
  expect(schema.status, JSON.stringify(schema.body)).toBe(200);
  [first, second, idle, reviewer] = await Promise.all([createUser("annotator"), createUser("annotator"), createUser("annotator"), createUser("reviewer")]);
  jobId = (await createJob(project.pm, project.project_id, { table_id: project.table_id, annotations_per_row: 2 })).job_id;
  for (const [account, role] of [[first, "annotator"], [second, "annotator"], [reviewer, "reviewer"]] as const) await assign(project.pm, jobId, account, role);

  // Two agents' suggestions on the table's rows.
  for (const [agent, suggestions] of [
    ["model-a", [
      { row_index: 0, question: "sentiment", value: "pos" }, { row_index: 1, question: "sentiment", value: "neg" },
      { row_index: 2, question: "sentiment", value: "pos" }, { row_index: 0, question: "tags", value: ["a", "b"] },
    ]],
    ["model-b", [{ row_index: 0, question: "sentiment", value: "neg" }]],
  ] as const) {
    const posted = await request("POST", `/api/v1/file-tables/${project.table_id}/suggestions`, { token: project.pm.token, body: { agent, suggestions } });
    expect(posted.status, JSON.stringify(posted.body)).toBe(200);
  }

  // First annotator: timed rows 0 (2 s), 1 (4 s), 2 (6 s + 1 s over two saves); row 3 untimed.
  await saved(first, jobId, 0, { sentiment: "pos", tags: ["b", "a"] }, 2000);
  await saved(first, jobId, 1, { sentiment: "pos" }, 4000);
  await saved(first, jobId, 2, { sentiment: "neg" }, 6000);
  await saved(first, jobId, 2, { sentiment: "pos" }, 1000);
  await saved(first, jobId, 3, { sentiment: "neg" });
  // Second annotator: 10 s a row.
  for (const [row, data] of [[0, { sentiment: "pos", tags: ["a"] }], [1, { sentiment: "neg" }], [2, { sentiment: "pos" }], [3, { sentiment: "neg" }]] as const) {
    await saved(second, jobId, row, data, 10_000);
  }
  for (const annotator of [first, second]) expect((await setStatus(annotator, jobId, "submitted")).status).toBe(200);

  // The responses tie on row 1; the reviewer decides it. Row 0 accepted, row 1 rejected and sent back.
  expect((await request("PUT", `/api/v1/annotation-jobs/${jobId}/items/1/final`, { token: reviewer.token, body: { data: { sentiment: "neg" } } })).status).toBe(201);
  expect((await request("PUT", `/api/v1/annotation-jobs/${jobId}/items/0/review`, { token: reviewer.token, body: { verdict: "accepted" } })).status).toBe(201);
  expect((await request("PUT", `/api/v1/annotation-jobs/${jobId}/items/1/review`, { token: reviewer.token, body: { verdict: "rejected", reason: "neg" } })).status).toBe(201);
  expect((await request("POST", `/api/v1/annotation-jobs/${jobId}/reviews`, { token: reviewer.token, body: { status: "rejected", comments: "Row 1." } })).status).toBe(201);
  // The first annotator redoes row 1 (1 s more) and submits again; the second has not yet.
  await saved(first, jobId, 1, { sentiment: "pos" }, 1000);
  expect((await setStatus(first, jobId, "submitted")).status).toBe(200);

  // A job due two days ago (its creation moved back to allow the date) with an idle annotator, and one due today.
  overdueJobId = (await createJob(project.pm, project.project_id, { table_id: project.table_id, row_start: 0, row_end: 1 })).job_id;
  await assign(project.pm, overdueJobId, idle, "annotator");
  await db.execute(sql`update annotation_job set created_at = now() - interval '10 days',
    due_date = (now() at time zone 'UTC')::date - 2 where job_id = ${overdueJobId}`);
  const today = new Date().toISOString().slice(0, 10);
  await createJob(project.pm, project.project_id, { table_id: project.table_id, row_start: 2, row_end: 3, due_date: today });
});

describe("GET /projects/{project_id}/stats", () => {
  it("reports every figure the contract names, in one round trip", async () => {
    const stats = await request("GET", statsPath(project.project_id), { token: project.pm.token });
    expect(stats.status, JSON.stringify(stats.body)).toBe(200);
    expect(stats.roundTrips).toBe(1);
    expect(stats.body.annotators).toEqual([
      {
        user_id: first.user_id, full_name: "Test annotator", rows_answered: 4, jobs_submitted: 1, rows_submitted: 4,
        rows_reviewed: 2, rows_rejected: 1, rejection_rate: 0.5,
        // Compared: sentiment on rows 0–3 (row 1's final is the reviewer's neg); row 0's tags tie, so are not compared.
        answers_compared: 4, agreement_with_final: 0.75,
        // Rows 0, 1, 2: 2 s, 4 + 1 s, 6 + 1 s.
        rows_timed: 3, median_seconds_per_row: 5,
      },
      {
        user_id: second.user_id, full_name: "Test annotator", rows_answered: 4, jobs_submitted: 0, rows_submitted: 0,
        rows_reviewed: 2, rows_rejected: 1, rejection_rate: 0.5,
        answers_compared: 4, agreement_with_final: 1,
        rows_timed: 4, median_seconds_per_row: 10,
      },
      {
        user_id: idle.user_id, full_name: "Test annotator", rows_answered: 0, jobs_submitted: 0, rows_submitted: 0,
        rows_reviewed: 0, rows_rejected: 0, rejection_rate: null, answers_compared: 0, agreement_with_final: null,
        rows_timed: 0, median_seconds_per_row: null,
      },
    ].sort((a, b) => a.user_id - b.user_id));
    expect(stats.body.agents).toEqual([
      {
        agent: "model-a",
        questions: [
          // Both took row 0, the second row 1, both row 2: 5 of 6.
          { question: "sentiment", responses: 6, accepted: 5, acceptance_rate: 5 / 6 },
          // ["b", "a"] is the suggested set; ["a"] is not.
          { question: "tags", responses: 2, accepted: 1, acceptance_rate: 0.5 },
        ],
      },
      { agent: "model-b", questions: [{ question: "sentiment", responses: 2, accepted: 0, acceptance_rate: 0 }] },
    ]);
    expect(stats.body.overdue).toEqual({
      count: 1,
      jobs: [{ job_id: overdueJobId, name: expect.any(String), status: "not_started", due_date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) }],
    });
    expect(stats.body.progress).toEqual({
      jobs: { total: 3, not_started: 2, in_progress: 1, submitted: 0, awaiting_qc: 0, reviewed: 0 },
      annotated: 4,
      total: 8,
      rows_accepted: 1,
      rows_rejected: 1,
    });
  });

  it("is for the project's pm and admins: others who see the project get 403, the rest 404", async () => {
    const admin = await createUser("admin");
    expect((await request("GET", statsPath(project.project_id), { token: admin.token })).status).toBe(200);
    for (const account of [project.client, reviewer, first]) {
      const refused = await request("GET", statsPath(project.project_id), { token: account.token });
      expect(refused.status).toBe(403);
      expect(refused.roundTrips).toBe(1);
    }
    for (const outsider of [await createUser("pm"), await registerClient()]) {
      expect((await request("GET", statsPath(project.project_id), { token: outsider.token })).status).toBe(404);
    }
  });
});

describe("lead_time_ms on saves", () => {
  it("is optional, kept with the save's revision, and must be a non-negative integer of at most a day", async () => {
    for (const bad of [-1, 1.5, 86_400_001, "12"]) {
      const refused = await save(first, overdueJobId, 0, { sentiment: "pos" }, bad as number);
      expect(refused.status).toBe(422);
      expect(refused.body.errors[0].path).toBe("body.lead_time_ms");
    }
    const own = await createUser("annotator");
    await assign(project.pm, overdueJobId, own, "annotator");
    expect((await save(own, overdueJobId, 0, { sentiment: "pos" }, 0)).status).toBe(201);
    expect((await save(own, overdueJobId, 0, { sentiment: "neg" }, 86_400_000)).status).toBe(200);
    expect((await save(own, overdueJobId, 1, { sentiment: "neg" })).status).toBe(201);
    const revisions = await db.execute(sql`select row_index, version, lead_time_ms from annotation_revision
      where job_id = ${overdueJobId} and annotator_id = ${own.user_id} order by row_index, version`);
    expect(revisions.rows).toEqual([
      { row_index: 0, version: 1, lead_time_ms: 0 },
      { row_index: 0, version: 2, lead_time_ms: 86_400_000 },
      { row_index: 1, version: 1, lead_time_ms: null },
    ]);
  });
});
