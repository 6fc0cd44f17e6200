import { describe, expect, it } from "vitest";
import { sql, testDb } from "./helpers/db.ts";
import { createUser, registerClient } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import { annotate, eventActions, staffedJob } from "./helpers/annotation.ts";
import { JOB_TRANSITIONS } from "../src/features/annotation-jobs/job-status.ts";

const db = testDb();

const itemsPath = (jobId: number) => `/api/v1/annotation-jobs/${jobId}/items`;
const annotationPath = (jobId: number, row: number) => `/api/v1/annotation-jobs/${jobId}/items/${row}/annotation`;

async function revisionCount(jobId: number, row: number) {
  const result = await db.execute(sql`select count(*)::integer as count from annotation_revision where job_id = ${jobId} and row_index = ${row}`);
  return (result.rows[0] as { count: number }).count;
}

describe("GET /annotation-jobs/{job_id}/items", () => {
  it("lists the job's rows with their current annotation, paged by row_index, in one round trip", async () => {
    const { job, annotator } = await staffedJob({ rows: 5 });
    await annotate(annotator, job.job_id, 1, { label: "one" });
    await annotate(annotator, job.job_id, 3, { label: "three" });

    const first = await request("GET", `${itemsPath(job.job_id)}?limit=2`, { token: annotator.token });
    expect(first.status).toBe(200);
    expect(first.roundTrips).toBe(1);
    expect(first.body.data).toEqual([
      { row_index: 0, data: { text: "row 0", n: 0 }, annotation: null, responses_count: 0, final: null, agreed: false, suggestions: [], review: null },
      {
        row_index: 1,
        data: { text: "row 1", n: 1 },
        annotation: { data: { label: "one" }, annotator_id: annotator.user_id, version: 1, updated_by: annotator.user_id, updated_at: expect.any(String) },
        responses_count: 1,
        final: { label: "one" },
        agreed: true,
        suggestions: [],
        review: null,
      },
    ]);
    const rows: number[] = first.body.data.map((item: { row_index: number }) => item.row_index);
    let cursor = first.body.next_cursor;
    while (cursor) {
      const page = await request("GET", `${itemsPath(job.job_id)}?limit=2&cursor=${cursor}`, { token: annotator.token });
      rows.push(...page.body.data.map((item: { row_index: number }) => item.row_index));
      cursor = page.body.next_cursor;
    }
    expect(rows).toEqual([0, 1, 2, 3, 4]);

    const todo = await request("GET", `${itemsPath(job.job_id)}?annotated=false`, { token: annotator.token });
    expect(todo.body.data.map((item: { row_index: number }) => item.row_index)).toEqual([0, 2, 4]);
    const done = await request("GET", `${itemsPath(job.job_id)}?annotated=true`, { token: annotator.token });
    expect(done.body.data.map((item: { row_index: number }) => item.row_index)).toEqual([1, 3]);
  });

  it("shows a client organization its results only once the job is reviewed", async () => {
    const { job, client, reviewer } = await staffedJob({ rows: 2, state: "submitted" });
    const member = await createUser("client_member", client.org_id);
    const early = await request("GET", itemsPath(job.job_id), { token: client.token });
    expect(early.status).toBe(403);
    expect(early.body.detail).toBe(`The results of job ${job.job_id} are available to your organization once it is reviewed (approved); it is submitted.`);
    expect((await request("GET", annotationPath(job.job_id, 0), { token: member.token })).status).toBe(403);

    await request("POST", `/api/v1/annotation-jobs/${job.job_id}/reviews`, { token: reviewer.token, body: { status: "approved" } });
    for (const account of [client, member]) {
      const items = await request("GET", itemsPath(job.job_id), { token: account.token });
      expect(items.status).toBe(200);
      expect(items.body.data.map((item: { annotation: { data: unknown } }) => item.annotation.data)).toEqual([{ label: "label 0" }, { label: "label 1" }]);
      expect((await request("GET", annotationPath(job.job_id, 1), { token: account.token })).status).toBe(200);
      expect((await request("GET", `${annotationPath(job.job_id, 1)}/history`, { token: account.token })).status).toBe(200);
    }
    const stranger = await registerClient();
    expect((await request("GET", itemsPath(job.job_id), { token: stranger.token })).status).toBe(404);
  });
});

describe("PUT /annotation-jobs/{job_id}/items/{row_index}/annotation", () => {
  it("creates the first annotation (201), starts the job and its project, keeps a revision and audits, in one round trip", async () => {
    const { job, annotator, pm, project_id } = await staffedJob({ rows: 3 });
    const saved = await annotate(annotator, job.job_id, 2, { label: "spam" });
    expect(saved.status).toBe(201);
    expect(saved.roundTrips).toBe(1);
    expect(saved.body).toMatchObject({ job_id: job.job_id, row_index: 2, data: { label: "spam" }, version: 1, updated_by: annotator.user_id });
    expect(saved.headers.get("etag")).toMatch(/^"[\w-]+"$/);

    const read = await request("GET", `/api/v1/annotation-jobs/${job.job_id}`, { token: pm.token });
    expect(read.body).toMatchObject({ status: "in_progress", progress: { annotated: 1, total: 3 } });
    expect((await request("GET", `/api/v1/projects/${project_id}`, { token: pm.token })).body.status).toBe("in_progress");

    const events = await eventActions({ project_id });
    const save = events.filter((event) => event.request_id === events.at(-1)!.request_id);
    expect(save.map((event) => event.action).sort()).toEqual(["annotation_job.start", "annotation_revision.create", "project.update"]);
    expect(save.find((event) => event.action === "annotation_revision.create")).toMatchObject({
      entity_type: "annotation_revision",
      actor_id: annotator.user_id,
      before: null,
      after: { job_id: job.job_id, row_index: 2, version: 1 },
    });

    const second = await annotate(annotator, job.job_id, 2, { label: "ham" });
    expect(second.status).toBe(200);
    expect(second.body.version).toBe(2);
    const afterSecond = await eventActions({ project_id });
    expect(afterSecond.slice(events.length).map((event) => event.action)).toEqual(["annotation_revision.create"]);
    expect(await revisionCount(job.job_id, 2)).toBe(2);
  });

  it("starts a job once: later saves write no start, and no move of the status machine leads back to not_started", async () => {
    // A save leaves the start out for a job its isolate has seen started (job-started.ts),
    // which is sound only while no move returns a job to not_started.
    expect(JOB_TRANSITIONS.filter((move) => move.to === "not_started").map((move) => move.name)).toEqual([]);
    const { job, annotator, pm, project_id } = await staffedJob({ rows: 3 });
    for (const row of [0, 1, 2, 0]) expect((await annotate(annotator, job.job_id, row, { label: `row ${row}` })).roundTrips).toBe(1);
    expect((await request("GET", `/api/v1/annotation-jobs/${job.job_id}`, { token: pm.token })).body.status).toBe("in_progress");
    const actions = (await eventActions({ project_id })).map((event) => event.action);
    expect(actions.filter((action) => action === "annotation_job.start")).toHaveLength(1);
    expect(actions.filter((action) => action === "annotation_revision.create")).toHaveLength(4);
  });

  it("honours If-Match: the current ETag saves, a stale one, another row's or one for a row without annotation is 412", async () => {
    const { job, annotator } = await staffedJob({ rows: 3 });
    const first = await annotate(annotator, job.job_id, 0, { label: "a" });
    const etag = first.headers.get("etag")!;
    const read = await request("GET", annotationPath(job.job_id, 0), { token: annotator.token });
    expect(read.status).toBe(200);
    expect(read.roundTrips).toBe(1);
    expect(read.headers.get("etag")).toBe(etag);

    const updated = await annotate(annotator, job.job_id, 0, { label: "b" }, { "if-match": etag });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ data: { label: "b" }, version: 2 });

    const stale = await annotate(annotator, job.job_id, 0, { label: "c" }, { "if-match": etag });
    expect(stale.status).toBe(412);
    expect(stale.roundTrips).toBe(1);
    expect(stale.headers.get("content-type")).toBe("application/problem+json");

    await annotate(annotator, job.job_id, 1, { label: "x" });
    const otherRow = await annotate(annotator, job.job_id, 1, { label: "y" }, { "if-match": updated.headers.get("etag")! });
    expect(otherRow.status).toBe(412);
    const noAnnotation = await annotate(annotator, job.job_id, 2, { label: "z" }, { "if-match": etag });
    expect(noAnnotation.status).toBe(412);
    expect((await annotate(annotator, job.job_id, 2, { label: "z" }, { "if-match": "\"not-ours\"" })).status).toBe(412);
    expect(await revisionCount(job.job_id, 0)).toBe(2);
    expect(await revisionCount(job.job_id, 2)).toBe(0);
  });

  it("lets exactly one of 20 concurrent saves with the same If-Match win; the other 19 get 412 and leave no revision", async () => {
    const { job, annotator } = await staffedJob({ rows: 2 });
    const first = await annotate(annotator, job.job_id, 0, { label: "start" });
    const etag = first.headers.get("etag")!;
    const before = await revisionCount(job.job_id, 0);

    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, attempt) => annotate(annotator, job.job_id, 0, { label: `attempt ${attempt}` }, { "if-match": etag })),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, ...Array<number>(19).fill(412)]);
    expect(await revisionCount(job.job_id, 0)).toBe(before + 1);

    const winner = answers.find((answer) => answer.status === 200)!;
    const current = await request("GET", annotationPath(job.job_id, 0), { token: annotator.token });
    expect(current.body).toMatchObject({ version: 2, data: winner.body.data });
    const history = await request("GET", `${annotationPath(job.job_id, 0)}/history`, { token: annotator.token });
    expect(history.body.data.map((revision: { version: number; data: unknown }) => [revision.version, revision.data])).toEqual([
      [1, { label: "start" }],
      [2, winner.body.data],
    ]);
  });

  it("is for the job's assigned annotator: reviewers, qc and the pm get 403, unassigned staff 404", async () => {
    const { job, reviewer, qc, pm, client } = await staffedJob();
    for (const account of [reviewer, qc, pm, client]) {
      const refused = await annotate(account, job.job_id, 0, { label: "x" });
      expect(refused.status).toBe(403);
      expect(refused.roundTrips).toBe(1);
    }
    expect((await annotate(await createUser("annotator"), job.job_id, 0, { label: "x" })).status).toBe(404);
    const admin = await createUser("admin");
    expect((await annotate(admin, job.job_id, 0, { label: "by admin" })).status).toBe(201);
  });

  it("refuses rows outside the job's range (404) and bodies that are not an object (422)", async () => {
    const { job, annotator } = await staffedJob({ rows: 3 });
    const outside = await annotate(annotator, job.job_id, 3, { label: "x" });
    expect(outside.status).toBe(404);
    expect(outside.body.detail).toBe(`Job ${job.job_id} covers rows 0–2; row 3 is not one of its items.`);
    const notObject = await request("PUT", annotationPath(job.job_id, 0), { token: annotator.token, body: { data: "positive" } });
    expect(notObject.status).toBe(422);
    expect((await request("GET", annotationPath(job.job_id, 9), { token: annotator.token })).status).toBe(404);
    const none = await request("GET", annotationPath(job.job_id, 1), { token: annotator.token });
    expect(none.status).toBe(404);
    expect(none.body.detail).toBe(`Row 1 of job ${job.job_id} has no annotation yet.`);
  });

  it("is 409 while the job is submitted and once it is reviewed, with a clear detail", async () => {
    const { job, annotator, reviewer } = await staffedJob({ rows: 2, state: "submitted" });
    const locked = await annotate(annotator, job.job_id, 0, { label: "late" });
    expect(locked.status).toBe(409);
    expect(locked.body.detail).toBe(`Job ${job.job_id} is submitted and awaiting review; its annotations are locked until a reviewer rejects it.`);

    await request("POST", `/api/v1/annotation-jobs/${job.job_id}/reviews`, { token: reviewer.token, body: { status: "approved" } });
    const final = await annotate(annotator, job.job_id, 0, { label: "too late" });
    expect(final.status).toBe(409);
    expect(final.roundTrips).toBe(1);
    expect(final.body.detail).toBe(`Job ${job.job_id} is reviewed (approved); its annotations are final and can no longer change.`);
    expect(await revisionCount(job.job_id, 0)).toBe(1);
  });
});

describe("GET …/annotation/history", () => {
  it("lists every revision oldest first, paged, in one round trip", async () => {
    const { job, annotator } = await staffedJob({ rows: 1 });
    for (const label of ["a", "b", "c"]) await annotate(annotator, job.job_id, 0, { label });
    const first = await request("GET", `${annotationPath(job.job_id, 0)}/history?limit=2`, { token: annotator.token });
    expect(first.status).toBe(200);
    expect(first.roundTrips).toBe(1);
    expect(first.body.data).toEqual([
      { revision_id: expect.any(Number), version: 1, data: { label: "a" }, created_by: annotator.user_id, created_at: expect.any(String) },
      { revision_id: expect.any(Number), version: 2, data: { label: "b" }, created_by: annotator.user_id, created_at: expect.any(String) },
    ]);
    const rest = await request("GET", `${annotationPath(job.job_id, 0)}/history?limit=2&cursor=${first.body.next_cursor}`, { token: annotator.token });
    expect(rest.body).toEqual({ data: [expect.objectContaining({ version: 3, data: { label: "c" } })], next_cursor: null });
  });
});
