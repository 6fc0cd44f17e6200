import { describe, expect, it } from "vitest";
import { annotate, createJob, eventActions, setStatus, staffedJob } from "./helpers/annotation.ts";
import { sql, testDb } from "./helpers/db.ts";
import { createUser, registerClient } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import { insertProject } from "./helpers/projects.ts";

const db = testDb();

const schemaPath = (projectId: number) => `/api/v1/projects/${projectId}/label-schema`;

type Token = { token: string };

function putSchema(account: Token, projectId: number, questions: unknown[], headers: Record<string, string> = {}) {
  return request("PUT", schemaPath(projectId), { token: account.token, body: { questions }, headers });
}

async function setRowText(tableId: number, rowIndex: number, text: string) {
  await db.execute(sql`update file_table_row set data = jsonb_set(data, '{text}', to_jsonb(${text}::text))
    where table_id = ${tableId} and row_index = ${rowIndex}`);
}

const EVERY_TYPE = [
  { name: "sentiment", type: "label", title: "Sentiment", required: true, options: ["positive", "negative", "neutral"] },
  { name: "topics", type: "multi_label", options: ["sport", "politics", "tech"] },
  { name: "quality", type: "rating", min: 1, max: 5 },
  { name: "score", type: "number", min: 0 },
  { name: "note", type: "text" },
  { name: "entities", type: "span", field: "text", options: ["person", "place"] },
  { name: "order", type: "ranking", options: ["a", "b", "c"] },
];

/** A job (3 rows, annotator assigned) whose project has EVERY_TYPE as its schema, with row 0's text holding emoji. */
async function schemaJob(questions: unknown[] = EVERY_TYPE) {
  const staffed = await staffedJob({ rows: 3 });
  const put = await putSchema(staffed.pm, staffed.project_id, questions);
  expect(put.status, JSON.stringify(put.body)).toBe(200);
  return staffed;
}

describe("GET|PUT /projects/{project_id}/label-schema", () => {
  it("answers a project without a schema as version 0 with no questions, then creates, reads and audits one in one round trip each", async () => {
    const { pm, project_id, org_id } = await staffedJob({ rows: 1 });
    const empty = await request("GET", schemaPath(project_id), { token: pm.token });
    expect(empty.status).toBe(200);
    expect(empty.roundTrips).toBe(1);
    expect(empty.body).toEqual({ project_id, schema_version: 0, questions: [], updated_at: null });
    expect(empty.headers.get("etag")).toMatch(/^"[\w-]+"$/);

    const put = await putSchema(pm, project_id, EVERY_TYPE, { "if-match": empty.headers.get("etag")!, "x-request-id": "label-schema-create" });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.roundTrips).toBe(1);
    expect(put.body.schema_version).toBe(1);
    expect(put.body.updated_at).toEqual(expect.any(String));
    // Stored as given, `required` defaulted to false, nothing else added.
    expect(put.body.questions).toEqual(EVERY_TYPE.map((question) => ({ required: false, ...question })));

    const read = await request("GET", schemaPath(project_id), { token: pm.token });
    expect(read.body).toEqual(put.body);
    expect(read.headers.get("etag")).toBe(put.headers.get("etag"));

    const events = await eventActions({ entity_type: "label_schema", entity_id: project_id });
    expect(events).toEqual([
      expect.objectContaining({
        action: "label_schema.update",
        actor_id: pm.user_id,
        request_id: "label-schema-create",
        before: { schema_version: 0, questions: [] },
        after: { schema_version: 1, questions: put.body.questions },
      }),
    ]);
    const stored = await db.execute(sql`select org_id, project_id from event_log where entity_type = 'label_schema' and entity_id = ${project_id}`);
    expect(stored.rows).toEqual([{ org_id, project_id }]);

    // The same questions again change nothing: no new version, no event.
    const again = await putSchema(pm, project_id, put.body.questions);
    expect(again.status).toBe(200);
    expect(again.body.schema_version).toBe(1);
    expect(await eventActions({ entity_type: "label_schema", entity_id: project_id })).toHaveLength(1);

    const changed = await putSchema(pm, project_id, EVERY_TYPE.slice(1));
    expect(changed.body.schema_version).toBe(2);
    expect(await eventActions({ entity_type: "label_schema", entity_id: project_id })).toHaveLength(2);
  });

  it("honours If-Match: a stale ETag, another project's, or one not ours is 412; a malformed one is 422", async () => {
    const { pm, project_id } = await staffedJob({ rows: 1 });
    const first = await putSchema(pm, project_id, [{ name: "a", type: "text" }]);
    const etag = first.headers.get("etag")!;
    const second = await putSchema(pm, project_id, [{ name: "b", type: "text" }], { "if-match": etag });
    expect(second.status).toBe(200);
    expect(second.body.schema_version).toBe(2);

    const stale = await putSchema(pm, project_id, [{ name: "c", type: "text" }], { "if-match": etag });
    expect(stale.status).toBe(412);
    expect(stale.roundTrips).toBe(1);
    const other = await staffedJob({ rows: 1 });
    const otherTag = (await request("GET", schemaPath(other.project_id), { token: other.pm.token })).headers.get("etag")!;
    expect((await putSchema(pm, project_id, [{ name: "c", type: "text" }], { "if-match": otherTag })).status).toBe(412);
    expect((await putSchema(pm, project_id, [{ name: "c", type: "text" }], { "if-match": "\"not-ours\"" })).status).toBe(412);
    expect((await putSchema(pm, project_id, [{ name: "c", type: "text" }], { "if-match": "no quotes" })).status).toBe(422);

    // The version-0 tag creates a schema only where none exists.
    const fresh = await staffedJob({ rows: 1 });
    const none = (await request("GET", schemaPath(fresh.project_id), { token: fresh.pm.token })).headers.get("etag")!;
    expect((await putSchema(fresh.pm, fresh.project_id, [{ name: "a", type: "text" }], { "if-match": none })).status).toBe(200);
    expect((await putSchema(fresh.pm, fresh.project_id, [{ name: "b", type: "text" }], { "if-match": none })).status).toBe(412);
    const current = await request("GET", schemaPath(fresh.project_id), { token: fresh.pm.token });
    expect(current.body.questions).toEqual([{ name: "a", type: "text", required: false }]);
  });

  it("is read by whoever sees the project and changed only by its pm or a platform admin (404 unseen, 403 seen)", async () => {
    const { pm, client, annotator, reviewer, project_id } = await staffedJob({ rows: 1 });
    const [admin, otherPm, member] = await Promise.all([createUser("admin"), createUser("pm"), createUser("client_member", client.org_id)]);
    const outsider = await registerClient();
    for (const reader of [pm, client, member, annotator, reviewer, admin]) {
      expect((await request("GET", schemaPath(project_id), { token: reader.token })).status).toBe(200);
    }
    for (const stranger of [outsider, otherPm]) {
      const refused = await request("GET", schemaPath(project_id), { token: stranger.token });
      expect(refused.status).toBe(404);
      expect(refused.body.detail).toBe(`Project ${project_id} does not exist.`);
      expect((await putSchema(stranger, project_id, [])).status).toBe(404);
    }
    for (const viewer of [client, member, annotator, reviewer]) {
      const refused = await putSchema(viewer, project_id, [{ name: "a", type: "text" }]);
      expect(refused.status).toBe(403);
      expect(refused.roundTrips).toBe(1);
      expect(refused.body.detail).toBe(`Only the project's pm or a platform admin can change project ${project_id}'s label schema.`);
    }
    expect((await putSchema(admin, project_id, [{ name: "a", type: "text" }])).status).toBe(200);
    expect(await eventActions({ entity_type: "label_schema", entity_id: project_id })).toHaveLength(1);

    const deleted = await insertProject(client.org_id, { our_pm_id: pm.user_id, deleted: true });
    expect((await request("GET", schemaPath(deleted.project_id), { token: pm.token })).status).toBe(404);
    expect((await putSchema(pm, deleted.project_id, [])).status).toBe(404);
  });

  it("validates the definitions: snake_case unique names, options, min ≤ max, field, and only the keys a type has", async () => {
    const { pm, project_id } = await staffedJob({ rows: 1 });
    const cases: [unknown[], string][] = [
      [[{ name: "Bad Name", type: "text" }], "body.questions.0.name"],
      [[{ name: "a", type: "text" }, { name: "a", type: "number" }], "body.questions.1.name"],
      [[{ name: "a", type: "label" }], "body.questions.0.options"],
      [[{ name: "a", type: "label", options: [] }], "body.questions.0.options"],
      [[{ name: "a", type: "ranking", options: ["x", "x"] }], "body.questions.0.options.1"],
      [[{ name: "a", type: "rating", min: 1 }], "body.questions.0.max"],
      [[{ name: "a", type: "rating", min: 1.5, max: 3 }], "body.questions.0.min"],
      [[{ name: "a", type: "rating", min: 5, max: 1 }], "body.questions.0.max"],
      [[{ name: "a", type: "number", min: 5, max: 1 }], "body.questions.0.max"],
      [[{ name: "a", type: "span", options: ["x"] }], "body.questions.0.field"],
      [[{ name: "a", type: "rating", min: 1, max: 5, options: ["x"] }], "body.questions.0"],
      [[{ name: "a", type: "essay" }], "body.questions.0.type"],
    ];
    for (const [questions, path] of cases) {
      const refused = await putSchema(pm, project_id, questions);
      expect(refused.status, JSON.stringify(questions)).toBe(422);
      expect(refused.body.errors.map((error: { path: string }) => error.path), JSON.stringify(refused.body)).toContain(path);
    }
    const duplicate = await putSchema(pm, project_id, [{ name: "a", type: "text" }, { name: "a", type: "text" }]);
    expect(duplicate.body.errors).toEqual([{ path: "body.questions.1.name", message: "duplicate question name \"a\": names must be unique" }]);
    expect((await request("GET", schemaPath(project_id), { token: pm.token })).body.schema_version).toBe(0);
  });
});

describe("answers validated on save", () => {
  it("accepts a valid answer to every type and refuses each invalid one at body.data.<question>", async () => {
    const { annotator, job } = await schemaJob();
    const valid = {
      sentiment: "positive",
      topics: ["sport", "tech"],
      quality: 5,
      score: 0.25,
      note: "x".repeat(10_000),
      entities: [{ start: 0, end: 3, label: "person" }],
      order: ["c", "a", "b"],
    };
    const saved = await annotate(annotator, job.job_id, 1, valid);
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    expect(saved.body.data).toEqual(valid);
    // Optional questions may be missing or null; empty sets and span lists are answers.
    expect((await annotate(annotator, job.job_id, 1, { sentiment: "neutral", note: null, topics: [], entities: [] })).status).toBe(200);

    const invalid: [string, unknown, string][] = [
      ["sentiment", "meh", "label question: expected one of the options \"positive\", \"negative\", \"neutral\""],
      ["sentiment", ["positive"], "label question: expected one of the options"],
      ["topics", ["sport", "sport"], "multi_label question: expected each option at most once (a set)"],
      ["topics", ["cooking"], "multi_label question: expected an array of options from \"sport\", \"politics\", \"tech\""],
      ["topics", "sport", "multi_label question: expected an array of options"],
      ["quality", 6, "rating question: expected an integer from 1 to 5"],
      ["quality", 2.5, "rating question: expected an integer from 1 to 5"],
      ["quality", "3", "rating question: expected an integer from 1 to 5"],
      ["score", -1, "number question: expected a number ≥ 0"],
      ["score", "1", "number question: expected a number ≥ 0"],
      ["note", "x".repeat(10_001), "text question: expected a string of at most 10000 characters"],
      ["note", 7, "text question: expected a string"],
      ["entities", [{ start: 2, end: 2, label: "person" }], "item 0 has start 2, end 2"],
      ["entities", [{ start: -1, end: 2, label: "person" }], "item 0 has start -1, end 2"],
      ["entities", [{ start: 0, end: 2 ** 40, label: "person" }], `item 0 has start 0, end ${2 ** 40}`],
      ["entities", [{ start: 0, end: 2, label: "thing" }], "item 0 has label \"thing\""],
      ["entities", [{ start: 0, end: 2 }], "item 0 is not {start, end, label}"],
      ["entities", [{ start: 0, end: 2, label: "person", extra: 1 }], "item 0 is not {start, end, label}"],
      ["entities", { start: 0, end: 2, label: "person" }, "span question: expected an array of {start, end, label}"],
      ["order", ["a", "b"], "ranking question: expected a permutation of the options \"a\", \"b\", \"c\""],
      ["order", ["a", "b", "b"], "ranking question: expected a permutation"],
      ["order", ["a", "b", "c", "d"], "ranking question: expected a permutation"],
    ];
    for (const [question, value, message] of invalid) {
      const refused = await annotate(annotator, job.job_id, 2, { sentiment: "positive", [question]: value });
      expect(refused.status, `${question}: ${JSON.stringify(value)}`).toBe(422);
      expect(refused.roundTrips).toBe(1);
      expect(refused.body.errors, `${question}: ${JSON.stringify(value)}`).toEqual([{ path: `body.data.${question}`, message: expect.stringContaining(message) }]);
    }
    const unknown = await annotate(annotator, job.job_id, 2, { sentiment: "positive", mood: "happy", quality: 9 });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual([
      { path: "body.data.mood", message: expect.stringMatching(/^unknown question; the label schema has "sentiment", "topics", /) },
      { path: "body.data.quality", message: "rating question: expected an integer from 1 to 5" },
    ]);
    // Nothing invalid was kept.
    const rows = await db.execute(sql`select count(*)::integer as count from annotation where job_id = ${job.job_id} and row_index = 2`);
    expect(rows.rows).toEqual([{ count: 0 }]);
  });

  it("checks spans against the row's own text, counting UTF-16 code units (an emoji outside the BMP is 2)", async () => {
    const { annotator, job, table_id } = await schemaJob();
    const text = "😀 Ada met 👍🏽 Bob in Paris";
    await setRowText(table_id, 0, text);
    const ada = { start: text.indexOf("Ada"), end: text.indexOf("Ada") + 3, label: "person" };
    expect(ada).toEqual({ start: 3, end: 6, label: "person" });
    const paris = { start: text.indexOf("Paris"), end: text.length, label: "place" };
    expect(text.length).toBe([...text].length + 3);

    const saved = await annotate(annotator, job.job_id, 0, { sentiment: "neutral", entities: [ada, paris] });
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    expect(text.slice(paris.start, paris.end)).toBe("Paris");

    const beyond = await annotate(annotator, job.job_id, 0, { sentiment: "neutral", entities: [ada, { ...paris, end: text.length + 1 }] });
    expect(beyond.status).toBe(422);
    expect(beyond.roundTrips).toBe(1);
    expect(beyond.body.errors).toEqual([{
      path: "body.data.entities",
      message: `span question: a span ends at ${text.length + 1}, beyond the end of column "text" of row 0, which is ${text.length} UTF-16 code units long (end ≤ ${text.length})`,
    }]);
    // Code points would say the text is shorter: an end valid in UTF-16 units is accepted.
    const lastUnits = await annotate(annotator, job.job_id, 0, { sentiment: "neutral", entities: [{ start: 0, end: text.length, label: "place" }] });
    expect(lastUnits.status).toBe(200);
    const history = await db.execute(sql`select count(*)::integer as count from annotation_revision where job_id = ${job.job_id} and row_index = 0`);
    expect(history.rows).toEqual([{ count: 2 }]);
  });

  it("refuses spans over a cell that is not text", async () => {
    const { annotator, job } = await schemaJob([{ name: "marks", type: "span", field: "n", options: ["x"] }, { name: "ghost", type: "span", field: "missing", options: ["x"] }]);
    const refused = await annotate(annotator, job.job_id, 1, { marks: [{ start: 0, end: 1, label: "x" }], ghost: [{ start: 0, end: 1, label: "x" }] });
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([
      { path: "body.data.marks", message: "span question: row 1 has no text in column \"n\" to point into" },
      { path: "body.data.ghost", message: "span question: row 1 has no text in column \"missing\" to point into" },
    ]);
  });

  it("saves in one round trip, the job's first save in this isolate and a save after a schema changed elsewhere included", async () => {
    const { annotator, job, project_id } = await schemaJob([{ name: "sentiment", type: "label", options: ["positive", "negative"] }]);
    // This isolate has never saved into this job: the statement validates against the schema it reads.
    const first = await annotate(annotator, job.job_id, 0, { sentiment: "positive" });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.roundTrips).toBe(1);
    const warm = await annotate(annotator, job.job_id, 1, { sentiment: "negative" });
    expect(warm.status).toBe(201);
    expect(warm.roundTrips).toBe(1);

    // Another isolate's PUT: this isolate still remembers version 1.
    await db.execute(sql`update label_schema set schema_version = 2,
      questions = '[{"name": "sentiment", "type": "label", "required": false, "options": ["positive", "negative", "mixed"]}]'::jsonb
      where project_id = ${project_id}`);
    const changed = await annotate(annotator, job.job_id, 2, { sentiment: "mixed" });
    expect(changed.status, JSON.stringify(changed.body)).toBe(201);
    expect(changed.roundTrips).toBe(1);

    await db.execute(sql`update label_schema set schema_version = 3,
      questions = '[{"name": "sentiment", "type": "label", "required": false, "options": ["positive"]}]'::jsonb
      where project_id = ${project_id}`);
    // Refused by the SQL verdict, with TypeScript's message over the schema the statement returned: still one trip.
    const nowInvalid = await annotate(annotator, job.job_id, 2, { sentiment: "negative" });
    expect(nowInvalid.status).toBe(422);
    expect(nowInvalid.roundTrips).toBe(1);
    expect(nowInvalid.body.errors).toEqual([{ path: "body.data.sentiment", message: "label question: expected one of the options \"positive\"" }]);
    const rows = await db.execute(sql`select data from annotation where job_id = ${job.job_id} and row_index = 2`);
    expect(rows.rows).toEqual([{ data: { sentiment: "mixed" } }]);
  });

  it("refuses a first save's span past its cell with the cell's length, after learning the schema (two round trips)", async () => {
    const { annotator, job } = await schemaJob([{ name: "entities", type: "span", field: "text", options: ["person"] }]);
    const cell = await db.execute(sql`select data ->> 'text' as text from file_table_row r join annotation_job j on j.table_id = r.table_id
      where j.job_id = ${job.job_id} and r.row_index = 1`);
    const length = String((cell.rows[0] as { text: string }).text).length;
    const refused = await annotate(annotator, job.job_id, 1, { entities: [{ start: 0, end: length + 1, label: "person" }] });
    expect(refused.status).toBe(422);
    expect(refused.roundTrips).toBe(2);
    expect(refused.body.errors[0].message).toContain(`which is ${length} UTF-16 code units long`);
    expect((await annotate(annotator, job.job_id, 1, { entities: [{ start: 0, end: length, label: "person" }] })).roundTrips).toBe(1);
  });

  // The embedded PGlite runs one statement at a time, so this only races for real with
  // DATABASE_URL pointing at a Postgres server (npm test then runs against it).
  it("never lets a save validated against the old schema commit next to a concurrent non-additive change", async () => {
    const before = [{ name: "sentiment", type: "label", options: ["positive", "negative"] }];
    const after = [{ name: "sentiment", type: "label", options: ["positive"] }];
    const jobs = await Promise.all(Array.from({ length: 8 }, () => schemaJob(before)));
    // Warm this isolate's cache so the saves do not need a retry to learn the schema.
    await Promise.all(jobs.map(({ annotator, project_id }) => request("GET", schemaPath(project_id), { token: annotator.token })));
    const outcomes = await Promise.all(jobs.map(async ({ annotator, job, pm, project_id }) => {
      const [saved, changed] = await Promise.all([
        annotate(annotator, job.job_id, 0, { sentiment: "negative" }),
        putSchema(pm, project_id, after),
      ]);
      return `${saved.status}/${changed.status}`;
    }));
    for (const outcome of outcomes) expect(["201/409", "422/200"]).toContain(outcome);
  });

  it("says nothing about the schema to a caller who may not save (403/404 before 422)", async () => {
    const { job, reviewer } = await schemaJob();
    const outsider = await registerClient();
    const forbidden = await annotate(reviewer, job.job_id, 0, { bogus: 1 });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.errors).toBeUndefined();
    expect((await annotate(outsider, job.job_id, 0, { bogus: 1 })).status).toBe(404);
  });

  it("leaves data free JSON without a schema, or with a schema of no questions", async () => {
    const { annotator, job, pm, project_id } = await staffedJob({ rows: 2 });
    expect((await annotate(annotator, job.job_id, 0, { anything: { nested: [1, 2] } })).status).toBe(201);
    const cleared = await putSchema(pm, project_id, []);
    expect(cleared.body.schema_version).toBe(0);
    expect((await annotate(annotator, job.job_id, 1, { still: "free" })).status).toBe(201);
  });
});

describe("required questions at submit", () => {
  it("refuses to submit (409) naming the first row and question left unanswered, then submits once answered", async () => {
    const { annotator, job } = await schemaJob([
      { name: "sentiment", type: "label", required: true, options: ["positive", "negative"] },
      { name: "quality", type: "rating", required: true, min: 1, max: 3 },
      { name: "note", type: "text" },
    ]);
    await annotate(annotator, job.job_id, 0, { sentiment: "positive", quality: 1 });
    await annotate(annotator, job.job_id, 1, { sentiment: "negative", quality: null, note: "unsure" });
    await annotate(annotator, job.job_id, 2, { note: "skipped" });
    const refused = await setStatus(annotator, job.job_id, "submitted");
    expect(refused.status).toBe(409);
    expect(refused.roundTrips).toBe(1);
    expect(refused.body.detail).toBe(
      `Job ${job.job_id} cannot be submitted: row 1 does not answer the required question "quality" of the project's label schema; answer it before submitting.`,
    );
    await annotate(annotator, job.job_id, 1, { sentiment: "negative", quality: 2 });
    const second = await setStatus(annotator, job.job_id, "submitted");
    expect(second.body.detail).toContain("row 2 does not answer the required question \"sentiment\"");
    await annotate(annotator, job.job_id, 2, { sentiment: "positive", quality: 3 });
    const submitted = await setStatus(annotator, job.job_id, "submitted");
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    expect(submitted.body.status).toBe("submitted");
  });
});

describe("changes once responses exist", () => {
  const BASE = [
    { name: "sentiment", type: "label", title: "Sentiment", required: true, options: ["positive", "negative"] },
    { name: "quality", type: "rating", min: 1, max: 5 },
  ];

  it("allows only additive changes (409 naming the question), bumping the version on each allowed one", async () => {
    const { annotator, job, pm, project_id } = await schemaJob(BASE);
    // Before any response, anything goes.
    expect((await putSchema(pm, project_id, [BASE[1]])).body.schema_version).toBe(2);
    expect((await putSchema(pm, project_id, BASE)).body.schema_version).toBe(3);
    expect((await annotate(annotator, job.job_id, 0, { sentiment: "positive" })).status).toBe(201);

    const refusals: [unknown[], string][] = [
      [[BASE[0]], "question \"quality\" would be removed"],
      [[{ ...BASE[0], type: "multi_label" }, BASE[1]], "question \"sentiment\" would change (only its title may change)"],
      [[{ ...BASE[0], required: false }, BASE[1]], "question \"sentiment\" would change"],
      [[BASE[0], { ...BASE[1], max: 10 }], "question \"quality\" would change"],
      [[{ ...BASE[0], options: ["negative", "positive"] }, BASE[1]], "the options of question \"sentiment\" would change"],
      [[{ ...BASE[0], options: ["positive"] }, BASE[1]], "the options of question \"sentiment\" would change"],
      [[{ ...BASE[0], options: ["positive", "neutral", "negative"] }, BASE[1]], "the options of question \"sentiment\" would change"],
      [[...BASE, { name: "note", type: "text", required: true }], "new question \"note\" is required"],
      [[], "question \"sentiment\" would be removed"],
    ];
    for (const [questions, reason] of refusals) {
      const refused = await putSchema(pm, project_id, questions);
      expect(refused.status, JSON.stringify(questions)).toBe(409);
      expect(refused.roundTrips).toBe(1);
      expect(refused.body.detail).toContain(
        `Project ${project_id} already has annotations, so its label schema may only change additively (new optional questions, options appended, titles): ${reason}`,
      );
    }
    expect(await eventActions({ entity_type: "label_schema", entity_id: project_id })).toHaveLength(3);

    const allowed = [
      [{ ...BASE[0], title: "How does it feel?" }, BASE[1]],
      [{ ...BASE[0], title: "How does it feel?", options: ["positive", "negative", "neutral"] }, BASE[1]],
      [BASE[1], { ...BASE[0], options: ["positive", "negative", "neutral"] }, { name: "note", type: "text" }],
    ];
    let version = 3;
    for (const questions of allowed) {
      const accepted = await putSchema(pm, project_id, questions);
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
      expect(accepted.body.schema_version).toBe(++version);
    }
    expect((await annotate(annotator, job.job_id, 1, { sentiment: "neutral", note: "new option, new question" })).status).toBe(201);
  });

  it("counts the responses of every job of the project, the annotated one being another job", async () => {
    const { annotator, pm, project_id, table_id } = await schemaJob(BASE);
    const other = await createJob(pm, project_id, { table_id, row_start: 0, row_end: 0 });
    await db.execute(sql`insert into assignment (job_id, user_id, role) values (${other.job_id}, ${annotator.user_id}, 'annotator')`);
    expect((await annotate(annotator, other.job_id, 0, { sentiment: "negative" })).status).toBe(201);
    expect((await putSchema(pm, project_id, [BASE[0]])).status).toBe(409);
  });
});
