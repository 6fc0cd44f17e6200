/**
 * Several annotators per row (README): three annotators answer the same rows, each
 * seeing only their own response; the job is submitted with the third submission;
 * reviewers read every response, the consensus `final` and `agreed`, and decide what
 * the responses did not; exports carry it all. Every new read and write is one round trip.
 */
import { parse as parseCsv } from "csv-parse/sync";
import { beforeAll, describe, expect, it } from "vitest";
import { sql, testDb } from "./helpers/db.ts";
import { annotationProject, assign, createJob, setStatus, type AnnotationProject } from "./helpers/annotation.ts";
import { freshConsensus } from "./helpers/consensus.ts";
import { createUser, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

const db = testDb();

const QUESTIONS = [
  { name: "sentiment", type: "label", required: true, options: ["pos", "neg", "neu"] },
  { name: "tags", type: "multi_label", required: false, options: ["a", "b", "c"] },
  { name: "stars", type: "rating", required: false, min: 1, max: 5 },
  { name: "note", type: "text", required: false },
];

// Per row, the three annotators' answers.
const ANSWERS: Record<string, unknown>[][] = [
  // Row 0: all three agree.
  [{ sentiment: "pos", tags: ["a", "b"], stars: 4 }, { sentiment: "pos", tags: ["b", "a"], stars: 4 }, { sentiment: "pos", tags: ["a", "b"], stars: 4 }],
  // Row 1: majorities everywhere but the text, which needs unanimity.
  [
    { sentiment: "pos", tags: ["a"], stars: 1, note: "x" },
    { sentiment: "pos", tags: ["a", "b"], stars: 3, note: "y" },
    { sentiment: "neg", tags: ["b"], stars: 5, note: "x" },
  ],
  // Row 2: three different labels; no tag reaches a majority (an empty set, resolved); median 2.
  [{ sentiment: "pos", tags: ["a"], stars: 2 }, { sentiment: "neg", tags: ["b"], stars: 2 }, { sentiment: "neu", tags: ["c"], stars: 5 }],
];

const EXPECTED_FINAL = [
  { final: { sentiment: "pos", tags: ["a", "b"], stars: 4 }, agreed: true },
  { final: { sentiment: "pos", tags: ["a", "b"], stars: 3, note: null }, agreed: false },
  { final: { sentiment: null, tags: [], stars: 2 }, agreed: false },
];

const jobPath = (jobId: number) => `/api/v1/annotation-jobs/${jobId}`;
const rowPath = (jobId: number, row: number, tail: string) => `${jobPath(jobId)}/items/${row}/${tail}`;

let project: AnnotationProject;
let annotators: Account[];
let reviewer: Account;
let jobId: number;

beforeAll(async () => {
  project = await annotationProject({ rows: 3 });
  const patched = await request("PATCH", `/api/v1/projects/${project.project_id}`, { token: project.pm.token, body: { annotations_per_row: 3 } });
  expect(patched.status, JSON.stringify(patched.body)).toBe(200);
  expect(patched.body.annotations_per_row).toBe(3);
  expect(patched.roundTrips).toBe(1);
  const schema = await request("PUT", `/api/v1/projects/${project.project_id}/label-schema`, { token: project.pm.token, body: { questions: QUESTIONS } });
  expect(schema.status, JSON.stringify(schema.body)).toBe(200);
  [reviewer, ...annotators] = await Promise.all([createUser("reviewer"), createUser("annotator"), createUser("annotator"), createUser("annotator")]);
  const job = await createJob(project.pm, project.project_id, { table_id: project.table_id });
  jobId = job.job_id;
  for (const annotator of annotators) await assign(project.pm, jobId, annotator, "annotator");
  await assign(project.pm, jobId, reviewer!, "reviewer");
});

describe("several annotators per row", () => {
  it("takes annotations_per_row from the project, overridable per job (1–10)", async () => {
    const job = await request("GET", jobPath(jobId), { token: project.pm.token });
    expect(job.body).toMatchObject({ annotations_per_row: 3, annotations_per_row_override: null, submitted_annotators: [] });
    const other = await createJob(project.pm, project.project_id, { table_id: project.table_id, annotations_per_row: 2 });
    expect(other).toMatchObject({ annotations_per_row: 2, annotations_per_row_override: 2 });
    const patched = await request("PATCH", jobPath(other.job_id), { token: project.pm.token, body: { annotations_per_row: null } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ annotations_per_row: 3, annotations_per_row_override: null });
    const tooMany = await request("PATCH", jobPath(other.job_id), { token: project.pm.token, body: { annotations_per_row: 11 } });
    expect(tooMany.status).toBe(422);
    const projectTooMany = await request("PATCH", `/api/v1/projects/${project.project_id}`, { token: project.pm.token, body: { annotations_per_row: 0 } });
    expect(projectTooMany.status).toBe(422);
  });

  it("keeps each annotator's own response, none seeing another's, and submits the job with the third submission", async () => {
    for (const [row, answers] of ANSWERS.entries()) {
      for (const [i, annotator] of annotators.entries()) {
        const saved = await request("PUT", rowPath(jobId, row, "annotation"), { token: annotator.token, body: { data: answers[i] } });
        expect(saved.status, JSON.stringify(saved.body)).toBe(201);
        // The job's first save in this isolate is validated in SQL against the schema it reads
        // (label-schema/answer-guard.ts): every save is one round trip, that one included.
        expect(saved.roundTrips).toBe(1);
        expect(saved.body).toMatchObject({ annotator_id: annotator.user_id, version: 1, data: answers[i] });
      }
    }
    // Schema validation as before, per response.
    const invalid = await request("PUT", rowPath(jobId, 0, "annotation"), { token: annotators[0]!.token, body: { data: { sentiment: "bogus" } } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors[0].path).toBe("body.data.sentiment");

    for (const [i, annotator] of annotators.entries()) {
      const own = await request("GET", rowPath(jobId, 1, "annotation"), { token: annotator.token });
      expect(own.status).toBe(200);
      expect(own.roundTrips).toBe(1);
      expect(own.body).toMatchObject({ annotator_id: annotator.user_id, data: ANSWERS[1]![i] });
      const items = await request("GET", `${jobPath(jobId)}/items`, { token: annotator.token });
      expect(items.roundTrips).toBe(1);
      for (const item of items.body.data) {
        expect(item.annotation).toMatchObject({ annotator_id: annotator.user_id, data: ANSWERS[item.row_index]![i] });
        expect(item.responses_count).toBe(1);
      }
      const history = await request("GET", rowPath(jobId, 1, "annotation/history"), { token: annotator.token });
      expect(history.body.data.map((revision: { data: unknown }) => revision.data)).toEqual([ANSWERS[1]![i]]);
      const others = await request("GET", rowPath(jobId, 1, "responses"), { token: annotator.token });
      expect(others.status).toBe(403);
      expect(JSON.stringify(others.body)).not.toContain('"note":"y"');
    }

    const first = await setStatus(annotators[0]!, jobId, "submitted");
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.roundTrips).toBe(1);
    expect(first.body).toMatchObject({ status: "in_progress", submitted_annotators: [annotators[0]!.user_id] });
    const again = await setStatus(annotators[0]!, jobId, "submitted");
    expect(again.status).toBe(409);
    const locked = await request("PUT", rowPath(jobId, 0, "annotation"), { token: annotators[0]!.token, body: { data: ANSWERS[0]![0] } });
    expect(locked.status).toBe(409);
    // The others keep working on their own responses.
    const stillOpen = await request("PUT", rowPath(jobId, 0, "annotation"), { token: annotators[1]!.token, body: { data: ANSWERS[0]![1] } });
    expect(stillOpen.status).toBe(200);

    const second = await setStatus(annotators[1]!, jobId, "submitted");
    expect(second.body.status).toBe("in_progress");
    const third = await setStatus(annotators[2]!, jobId, "submitted");
    expect(third.status).toBe(200);
    expect(third.roundTrips).toBe(1);
    expect(third.body.status).toBe("submitted");
    expect([...third.body.submitted_annotators].sort()).toEqual(annotators.map((a) => a.user_id).sort());
  });

  it("shows reviewers every response, the consensus final where they agree and unresolved where not", async () => {
    for (const [row, answers] of ANSWERS.entries()) {
      const read = await request("GET", rowPath(jobId, row, "responses"), { token: reviewer.token });
      expect(read.status, JSON.stringify(read.body)).toBe(200);
      expect(read.roundTrips).toBe(1);
      const sorted = [...annotators].sort((a, b) => a.user_id - b.user_id);
      expect(read.body.responses.map((response: { annotator_id: number }) => response.annotator_id)).toEqual(sorted.map((a) => a.user_id));
      for (const response of read.body.responses) {
        const i = annotators.findIndex((a) => a.user_id === response.annotator_id);
        expect(response.data).toEqual(answers[i]);
        expect(response.submitted_at).toEqual(expect.any(String));
      }
      expect(read.body).toMatchObject({ responses_count: 3, ...EXPECTED_FINAL[row], decision: null });
    }
    const items = await request("GET", `${jobPath(jobId)}/items`, { token: reviewer.token });
    expect(items.roundTrips).toBe(1);
    expect(items.body.data.map((item: Record<string, unknown>) => ({ final: item.final, agreed: item.agreed, count: item.responses_count })))
      .toEqual(EXPECTED_FINAL.map((expected) => ({ ...expected, count: 3 })));
  });

  it("lets a reviewer resolve a row with PUT …/final, validated against the schema, in one round trip", async () => {
    const invalid = await request("PUT", rowPath(jobId, 2, "final"), { token: reviewer.token, body: { data: { sentiment: "maybe" } } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors[0].path).toBe("body.data.sentiment");
    const byAnnotator = await request("PUT", rowPath(jobId, 2, "final"), { token: annotators[0]!.token, body: { data: { sentiment: "neu" } } });
    expect(byAnnotator.status).toBe(403);

    const decided = await request("PUT", rowPath(jobId, 2, "final"), { token: reviewer.token, body: { data: { sentiment: "neu" } } });
    expect(decided.status, JSON.stringify(decided.body)).toBe(201);
    expect(decided.roundTrips).toBe(1);
    expect(decided.body).toMatchObject({ job_id: jobId, row_index: 2, data: { sentiment: "neu" }, version: 1, set_by: reviewer.user_id });
    const note = await request("PUT", rowPath(jobId, 1, "final"), { token: reviewer.token, body: { data: { note: "x" } } });
    expect(note.status).toBe(201);

    const read = await request("GET", rowPath(jobId, 2, "responses"), { token: reviewer.token });
    expect(read.body).toMatchObject({ final: { sentiment: "neu", tags: [], stars: 2 }, agreed: false, decision: { data: { sentiment: "neu" } } });
    const events = await db.execute(sql`select action from event_log where entity_type = 'row_final' and entity_id = ${jobId}`);
    expect(events.rows).toHaveLength(2);
  });

  it("exports responses, final and agreed in JSONL, JSON and CSV", async () => {
    const approved = await request("POST", `${jobPath(jobId)}/reviews`, { token: reviewer.token, body: { status: "approved" } });
    expect(approved.status).toBe(201);
    const expectedFinal = [
      EXPECTED_FINAL[0]!.final,
      { ...EXPECTED_FINAL[1]!.final, note: "x" },
      { ...EXPECTED_FINAL[2]!.final, sentiment: "neu" },
    ];
    const check = (rows: { row_index: number; responses: { annotator_id: number; data: unknown; submitted_at: string | null }[]; final: unknown; agreed: unknown }[]) => {
      expect(rows.map((row) => row.row_index)).toEqual([0, 1, 2]);
      for (const row of rows) {
        expect(row.final).toEqual(expectedFinal[row.row_index]);
        expect(row.agreed).toBe(EXPECTED_FINAL[row.row_index]!.agreed);
        expect(row.responses).toHaveLength(3);
        for (const response of row.responses) {
          const i = annotators.findIndex((a) => a.user_id === response.annotator_id);
          expect(response.data).toEqual(ANSWERS[row.row_index]![i]);
          expect(response.submitted_at).toEqual(expect.any(String));
        }
      }
    };
    const jsonl = await exportText("jsonl");
    check(jsonl.trim().split("\n").map((line) => JSON.parse(line)));
    check(JSON.parse(await exportText("json")));
    const records = parseCsv(await exportText("csv"), { columns: true }) as Record<string, string>[];
    check(records.map((record) => ({
      row_index: Number(record.row_index),
      responses: JSON.parse(record.responses!),
      final: JSON.parse(record.final!),
      agreed: record.agreed === "true",
    })));
  });

  it("with two annotators: a tie is unresolved, an even median is the lower middle; a rejection reopens every submission", async () => {
    const pair = await Promise.all([createUser("annotator"), createUser("annotator")]);
    const job = await createJob(project.pm, project.project_id, { table_id: project.table_id, annotations_per_row: 2 });
    for (const annotator of pair) await assign(project.pm, job.job_id, annotator, "annotator");
    await assign(project.pm, job.job_id, reviewer, "reviewer");
    const answers = [{ sentiment: "pos", tags: ["a"], stars: 2 }, { sentiment: "pos", tags: ["b"], stars: 5 }];
    for (const [i, annotator] of pair.entries()) {
      for (let row = 0; row < 3; row++) {
        const saved = await request("PUT", rowPath(job.job_id, row, "annotation"), { token: annotator.token, body: { data: answers[i] } });
        expect(saved.status).toBe(201);
      }
    }
    const read = await request("GET", rowPath(job.job_id, 0, "responses"), { token: reviewer.token });
    expect(read.body).toMatchObject({ final: { sentiment: "pos", tags: null, stars: 2 }, agreed: false });

    for (const annotator of pair) expect((await setStatus(annotator, job.job_id, "submitted")).status).toBe(200);
    const rejected = await request("POST", `${jobPath(job.job_id)}/reviews`, { token: reviewer.token, body: { status: "rejected", comments: "tags" } });
    expect(rejected.status).toBe(201);
    const reopened = await request("GET", jobPath(job.job_id), { token: project.pm.token });
    expect(reopened.body).toMatchObject({ status: "in_progress", submitted_annotators: [] });
    const fixed = await request("PUT", rowPath(job.job_id, 0, "annotation"), { token: pair[1]!.token, body: { data: answers[0] } });
    expect(fixed.status).toBe(200);
    expect((await setStatus(pair[0]!, job.job_id, "submitted")).body.status).toBe("in_progress");
    expect((await setStatus(pair[1]!, job.job_id, "submitted")).body.status).toBe("submitted");
  });

  it("counts a reviewer's final values as answers: the label schema then only grows", async () => {
    const other = await annotationProject({ rows: 2 });
    const put = (questions: unknown[]) =>
      request("PUT", `/api/v1/projects/${other.project_id}/label-schema`, { token: other.pm.token, body: { questions } });
    expect((await put(QUESTIONS)).status).toBe(200);
    const job = await createJob(other.pm, other.project_id, { table_id: other.table_id });
    const decided = await request("PUT", rowPath(job.job_id, 0, "final"), { token: other.pm.token, body: { data: { sentiment: "neu" } } });
    expect(decided.status).toBe(201);
    const narrowed = await put([{ ...QUESTIONS[0], options: ["pos", "neg"] }, ...QUESTIONS.slice(1)]);
    expect(narrowed.status).toBe(409);
  });

  it("loses nothing when 20 annotators save the same row at once, and stores the consensus of all 20", async () => {
    const crowd = await Promise.all(Array.from({ length: 20 }, () => createUser("annotator")));
    const job = await createJob(project.pm, project.project_id, { table_id: project.table_id, annotations_per_row: 10 });
    for (const annotator of crowd) await assign(project.pm, job.job_id, annotator, "annotator");
    await assign(project.pm, job.job_id, reviewer, "reviewer");
    // Each save stores the row's consensus over the responses committed before it: one
    // computed without the others' would leave the row's stored consensus short of them.
    // A reviewer's decision races with them on row 1, and a second row takes turns too.
    // The race is real against a PostgreSQL server (DATABASE_URL=…): without the job lock
    // taken ahead of the computing statement, two runs stored the consensus of 11 and 12 of
    // the 20 responses (one also without the decision). PGlite runs one transaction at a
    // time, so there it only checks the result.
    const [saves, decision] = await Promise.all([
      Promise.all(crowd.flatMap((annotator, i) => [
        request("PUT", rowPath(job.job_id, 1, "annotation"), { token: annotator.token, body: { data: { sentiment: i < 11 ? "pos" : "neg", stars: (i % 5) + 1 } } }),
        request("PUT", rowPath(job.job_id, 2, "annotation"), { token: annotator.token, body: { data: { sentiment: "neu", tags: i % 2 ? ["a"] : ["a", "b"] } } }),
      ])),
      request("PUT", rowPath(job.job_id, 1, "final"), { token: reviewer.token, body: { data: { note: "decided" } } }),
    ]);
    expect(saves.map((save) => save.status)).toEqual(saves.map(() => 201));
    expect(decision.status).toBe(201);
    const counts = await db.execute(sql`select
        (select count(*)::int from annotation where job_id = ${job.job_id} and row_index = 1) as responses,
        (select count(*)::int from annotation_revision where job_id = ${job.job_id} and row_index = 1) as revisions,
        (select count(distinct annotator_id)::int from annotation_revision where job_id = ${job.job_id} and row_index = 1) as annotators`);
    expect(counts.rows[0]).toEqual({ responses: 20, revisions: 20, annotators: 20 });
    const read = await request("GET", rowPath(job.job_id, 1, "responses"), { token: project.pm.token });
    expect(read.body.responses).toHaveLength(20);
    expect(read.body).toMatchObject({ responses_count: 20, final: { sentiment: "pos", stars: 3, note: "decided" }, agreed: true });
    const second = await request("GET", rowPath(job.job_id, 2, "responses"), { token: project.pm.token });
    expect(second.body).toMatchObject({ responses_count: 20, final: { sentiment: "neu", tags: null }, agreed: false });
    expect(await storedConsensus(job.job_id)).toEqual(await recomputedConsensus(job.job_id));
  });

  it("recomputes the stored consensus when a label schema arrives for schemaless responses", async () => {
    const other = await annotationProject({ rows: 2 });
    const trio = await Promise.all([createUser("annotator"), createUser("annotator"), createUser("annotator")]);
    const job = await createJob(other.pm, other.project_id, { table_id: other.table_id, annotations_per_row: 3 });
    for (const annotator of trio) await assign(other.pm, job.job_id, annotator, "annotator");
    const labels = ["pos", "pos", "neg"];
    for (const [i, annotator] of trio.entries()) {
      const saved = await request("PUT", rowPath(job.job_id, 0, "annotation"), { token: annotator.token, body: { data: { sentiment: labels[i], extra: 1 } } });
      expect(saved.status).toBe(201);
    }
    const items = async () => (await request("GET", `${jobPath(job.job_id)}/items`, { token: other.pm.token })).body.data[0];
    // Without a schema every key needs unanimity.
    expect(await items()).toMatchObject({ responses_count: 3, final: { sentiment: null, extra: 1 }, agreed: false });
    const own = await request("GET", `${jobPath(job.job_id)}/items`, { token: trio[2]!.token });
    expect(own.body.data[0]).toMatchObject({ responses_count: 1, final: { sentiment: "neg", extra: 1 }, agreed: true });

    const schema = await request("PUT", `/api/v1/projects/${other.project_id}/label-schema`, {
      token: other.pm.token,
      body: { questions: [{ name: "sentiment", type: "label", required: false, options: ["pos", "neg"] }] },
    });
    expect(schema.status, JSON.stringify(schema.body)).toBe(200);
    expect(schema.roundTrips).toBe(1);
    // A label question takes the majority, and `extra` is no question of the schema.
    expect(await items()).toMatchObject({ responses_count: 3, final: { sentiment: "pos" }, agreed: true });
    const ownAfter = await request("GET", `${jobPath(job.job_id)}/items`, { token: trio[2]!.token });
    expect(ownAfter.body.data[0]).toMatchObject({ responses_count: 1, final: { sentiment: "neg" }, agreed: true });
    expect(await storedConsensus(job.job_id)).toEqual(await recomputedConsensus(job.job_id));
  });

  it("stores a lone response's consensus as its own, and a reviewer's decision over it when its annotator saves again", async () => {
    // A save of a row with no other response and no decision stores the response's own
    // consensus as the row's (migration 0026); with a decision it computes the row's.
    const [annotator] = annotators;
    const job = await createJob(project.pm, project.project_id, { table_id: project.table_id, annotations_per_row: 3 });
    await assign(project.pm, job.job_id, annotator!, "annotator");
    await assign(project.pm, job.job_id, reviewer, "reviewer");
    const save = (row: number, data: Record<string, unknown>) =>
      request("PUT", rowPath(job.job_id, row, "annotation"), { token: annotator!.token, body: { data } });

    expect((await save(0, { sentiment: "pos", tags: ["b", "a"], stars: 4 })).status).toBe(201);
    const alone = await request("GET", rowPath(job.job_id, 0, "responses"), { token: reviewer.token });
    expect(alone.body).toMatchObject({ responses_count: 1, final: { sentiment: "pos", tags: ["a", "b"], stars: 4 }, agreed: true, decision: null });

    expect((await save(1, { sentiment: "neg" })).status).toBe(201);
    const decided = await request("PUT", rowPath(job.job_id, 1, "final"), { token: reviewer.token, body: { data: { note: "decided" } } });
    expect(decided.status, JSON.stringify(decided.body)).toBe(201);
    const again = await save(1, { sentiment: "neu", stars: 2 });
    expect(again.status).toBe(200);
    expect(again.roundTrips).toBe(1);
    const read = await request("GET", rowPath(job.job_id, 1, "responses"), { token: reviewer.token });
    expect(read.body).toMatchObject({ responses_count: 1, final: { sentiment: "neu", stars: 2, note: "decided" }, agreed: true });
    expect(await storedConsensus(job.job_id)).toEqual(await recomputedConsensus(job.job_id));
  });

  it("plans the consensus once per connection: annotation_consensus keeps a generic plan (migration 0025)", async () => {
    // Without it PostgreSQL planned the function's query again on every call (a plan for
    // the call's own jsonb arguments always looked cheaper), twice in every save.
    const config = await db.execute(sql`select p.proconfig from pg_proc p
      where p.oid = 'annotation_consensus(jsonb, jsonb, jsonb)'::regprocedure`);
    expect(config.rows[0]?.proconfig).toEqual(["plan_cache_mode=force_generic_plan"]);
    // The same for the function a save stores its row's consensus with (migration 0026).
    const afterSave = await db.execute(sql`select p.proconfig from pg_proc p where p.proname = 'row_consensus_after_save'`);
    expect(afterSave.rows.map((row) => row.proconfig)).toEqual([["plan_cache_mode=force_generic_plan"]]);
  });
});

type StoredConsensus = { rows: unknown[]; responses: unknown[] };

/** What the writers stored for a job: its rows' consensus and each response's own. */
async function storedConsensus(jobId: number): Promise<StoredConsensus> {
  const rows = await db.execute(sql`select job_id, row_index, responses_count, final, agreed from row_consensus where job_id = ${jobId} order by row_index`);
  const responses = await db.execute(sql`select row_index, annotator_id, own_final as final, own_agreed as agreed
    from annotation where job_id = ${jobId} order by row_index, annotator_id`);
  return { rows: rows.rows, responses: responses.rows };
}

/** The same, computed afresh from the committed responses, decisions and schema. */
async function recomputedConsensus(jobId: number): Promise<StoredConsensus> {
  const rows = await db.execute(sql`select * from (${freshConsensus(jobId)}) fresh order by row_index`);
  const responses = await db.execute(sql`select a.row_index, a.annotator_id, c.final, c.agreed from annotation a
    cross join lateral annotation_consensus(jsonb_build_array(a.data),
      (select ls.questions from annotation_job j join label_schema ls on ls.project_id = j.project_id where j.job_id = a.job_id), null) c
    where a.job_id = ${jobId} order by a.row_index, a.annotator_id`);
  return { rows: rows.rows, responses: responses.rows };
}

/** Exports the project's approved rows as the client and downloads the file. */
async function exportText(format: "jsonl" | "json" | "csv"): Promise<string> {
  const created = await request("POST", `/api/v1/projects/${project.project_id}/exports`, { token: project.client.token, body: { format, scope: "approved" } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  for (let attempt = 0; attempt < 150; attempt += 1) {
    const read = await request("GET", `/api/v1/exports/${created.body.export_id}`, { token: project.client.token });
    if (read.body.status === "succeeded") return (await fetch(read.body.download_url)).text();
    expect(read.body.status).not.toBe("failed");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("export did not finish");
}
