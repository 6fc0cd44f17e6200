import { describe, expect, it } from "vitest";
import { sql, testDb } from "./helpers/db.ts";
import { createUser, registerClient } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import {
  annotate,
  annotateRows,
  annotationProject,
  assign,
  createJob,
  createJobs,
  eventActions,
  insertParsedTable,
  setStatus,
  staffedJob,
} from "./helpers/annotation.ts";

const db = testDb();

function jobsPath(projectId: number) {
  return `/api/v1/projects/${projectId}/annotation-jobs`;
}

function isoDay(offsetDays: number) {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

describe("POST /projects/{project_id}/annotation-jobs", () => {
  it("cuts one job over the whole table by default, with its progress, in one round trip, audited", async () => {
    const project = await annotationProject({ rows: 7 });
    const response = await request("POST", jobsPath(project.project_id), {
      token: project.pm.token,
      body: { name: "Everything", table_id: project.table_id, priority: "high", due_date: isoDay(7), estimated_hours: 2.5, instructions: "Label sentiment." },
    });
    expect(response.status).toBe(201);
    expect(response.roundTrips).toBe(1);
    expect(response.body.data).toEqual([
      expect.objectContaining({
        project_id: project.project_id,
        table_id: project.table_id,
        name: "Everything",
        status: "not_started",
        priority: "high",
        due_date: isoDay(7),
        estimated_hours: 2.5,
        instructions: "Label sentiment.",
        row_start: 0,
        row_end: 6,
        created_by: project.pm.user_id,
        progress: { annotated: 0, total: 7 },
        latest_review: null,
      }),
    ]);
    const events = await eventActions({ entity_type: "annotation_job", entity_id: response.body.data[0].job_id });
    expect(events).toEqual([
      expect.objectContaining({
        action: "annotation_job.create",
        actor_id: project.pm.user_id,
        after: expect.objectContaining({ name: "Everything", row_start: 0, row_end: 6, table_id: project.table_id }),
      }),
    ]);
  });

  it("splits a range into consecutive jobs named (i/n), in one round trip whatever their number", async () => {
    const project = await annotationProject({ rows: 10 });
    const response = await request("POST", jobsPath(project.project_id), {
      token: project.pm.token,
      body: { name: "Batch", table_id: project.table_id, row_start: 1, row_end: 9, split_size: 4, priority: "low" },
    });
    expect(response.status).toBe(201);
    expect(response.roundTrips).toBe(1);
    expect(response.body.data.map((job: { name: string; row_start: number; row_end: number; progress: unknown }) => [job.name, job.row_start, job.row_end, job.progress])).toEqual([
      ["Batch (1/3)", 1, 4, { annotated: 0, total: 4 }],
      ["Batch (2/3)", 5, 8, { annotated: 0, total: 4 }],
      ["Batch (3/3)", 9, 9, { annotated: 0, total: 1 }],
    ]);
    const events = await eventActions({ project_id: project.project_id, entity_type: "annotation_job" });
    expect(events.map((event) => event.action)).toEqual(["annotation_job.create", "annotation_job.create", "annotation_job.create"]);
    expect(new Set(events.map((event) => event.request_id)).size).toBe(1);

    const many = await request("POST", jobsPath(project.project_id), {
      token: project.pm.token,
      body: { name: "Single rows", table_id: project.table_id, split_size: 1, priority: "low" },
    });
    expect(many.status).toBe(201);
    expect(many.roundTrips).toBe(1);
    expect(many.body.data).toHaveLength(10);
    expect(many.body.data[9]).toMatchObject({ name: "Single rows (10/10)", row_start: 9, row_end: 9 });
  });

  it("keeps the name as given when the split yields one job", async () => {
    const project = await annotationProject({ rows: 3 });
    const [job] = await createJobs(project.pm, project.project_id, { name: "Small", table_id: project.table_id, split_size: 50 });
    expect(job).toMatchObject({ name: "Small", row_start: 0, row_end: 2 });
  });

  it("refuses a range outside the table, a table of another project, a superseded table and past due dates", async () => {
    const project = await annotationProject({ rows: 5 });
    const other = await annotationProject({ rows: 5 });
    const post = (body: Record<string, unknown>) =>
      request("POST", jobsPath(project.project_id), { token: project.pm.token, body: { name: "Job", table_id: project.table_id, priority: "medium", ...body } });

    const beyond = await post({ row_end: 5 });
    expect(beyond.status).toBe(422);
    expect(beyond.body.errors).toEqual([{ path: "body.row_end", message: "must be below the table's row_count (5)" }]);
    expect((await post({ row_start: 5 })).body.errors).toEqual([{ path: "body.row_start", message: "must be below the table's row_count (5)" }]);
    const reversed = await post({ row_start: 3, row_end: 2 });
    expect(reversed.status).toBe(422);
    expect(reversed.body.errors[0].path).toBe("body.row_start");

    const foreign = await post({ table_id: other.table_id });
    expect(foreign.status).toBe(422);
    expect(foreign.body.errors).toEqual([{ path: "body.table_id", message: `must be a parsed table of a file of project ${project.project_id}` }]);

    const past = await post({ due_date: isoDay(-2) });
    expect(past.status).toBe(422);
    expect(past.body.errors[0].path).toBe("body.due_date");

    await db.execute(sql`update file_table set state = 'superseded' where table_id = ${project.table_id}`);
    const superseded = await post({});
    expect(superseded.status).toBe(409);
    expect(superseded.body.detail).toContain(`Table ${project.table_id} is not the current parse of its file`);

    const replacement = await insertParsedTable(project, 0);
    const empty = await post({ table_id: replacement.table_id });
    expect(empty.status).toBe(422);
    expect(empty.body.errors).toEqual([{ path: "body.table_id", message: "the table has no rows" }]);

    const count = await db.execute(sql`select count(*)::integer as count from annotation_job where project_id = ${project.project_id}`);
    expect(count.rows[0]).toEqual({ count: 0 });
  });

  it("refuses splits of more than 1000 jobs and archived projects", async () => {
    const project = await annotationProject({ rows: 1001 });
    const tooMany = await request("POST", jobsPath(project.project_id), {
      token: project.pm.token,
      body: { name: "Rows", table_id: project.table_id, split_size: 1, priority: "low" },
    });
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.errors).toEqual([{ path: "body.split_size", message: "would cut 1001 jobs; at most 1000 per request" }]);

    await db.execute(sql`update project set status = 'archived' where project_id = ${project.project_id}`);
    const archived = await request("POST", jobsPath(project.project_id), {
      token: project.pm.token,
      body: { name: "Late", table_id: project.table_id, priority: "low" },
    });
    expect(archived.status).toBe(409);
    expect(archived.body.detail).toBe(`Project ${project.project_id} is archived; it takes no new jobs.`);
  });

  it("is for the project's pm and admins: visible callers without the right get 403, others 404", async () => {
    const { pm, project_id, table_id, client, annotator } = await staffedJob();
    const [admin, otherPm, strangerAnnotator, member] = await Promise.all([
      createUser("admin"),
      createUser("pm"),
      createUser("annotator"),
      createUser("client_member", client.org_id),
    ]);
    const body = { name: "Access", table_id, priority: "medium" };
    const post = (token: string) => request("POST", jobsPath(project_id), { token, body });
    expect((await post(admin.token)).status).toBe(201);
    expect((await post(pm.token)).status).toBe(201);
    for (const visibleWithoutRight of [client, member, annotator]) {
      const refused = await post(visibleWithoutRight.token);
      expect(refused.status).toBe(403);
      expect(refused.roundTrips).toBe(1);
    }
    for (const outsider of [otherPm, strangerAnnotator, await registerClient()]) {
      expect((await post(outsider.token)).status).toBe(404);
    }
  });
});

describe("GET /projects/{project_id}/annotation-jobs and /annotation-jobs", () => {
  it("filters by status, priority, assignee and due dates, in one round trip", async () => {
    const project = await annotationProject({ rows: 8 });
    const annotator = await createUser("annotator");
    const [low, medium, high, undated] = [
      await createJob(project.pm, project.project_id, { table_id: project.table_id, row_start: 0, row_end: 1, priority: "low", due_date: isoDay(1) }),
      await createJob(project.pm, project.project_id, { table_id: project.table_id, row_start: 2, row_end: 3, priority: "medium", due_date: isoDay(5) }),
      await createJob(project.pm, project.project_id, { table_id: project.table_id, row_start: 4, row_end: 5, priority: "high", due_date: isoDay(10) }),
      await createJob(project.pm, project.project_id, { table_id: project.table_id, row_start: 6, row_end: 7, priority: "high" }),
    ];
    await assign(project.pm, medium!.job_id, annotator, "annotator");
    await annotate(annotator, medium!.job_id, 2, { label: "x" });

    const ids = async (query: string) => {
      const response = await request("GET", `${jobsPath(project.project_id)}?${query}`, { token: project.pm.token });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.roundTrips).toBe(1);
      return response.body.data.map((job: { job_id: number }) => job.job_id);
    };
    expect(await ids("")).toEqual([low!.job_id, medium!.job_id, high!.job_id, undated!.job_id]);
    expect(await ids("status=in_progress")).toEqual([medium!.job_id]);
    expect(await ids("priority=high")).toEqual([high!.job_id, undated!.job_id]);
    expect(await ids(`assignee_id=${annotator.user_id}`)).toEqual([medium!.job_id]);
    expect(await ids(`due_before=${isoDay(5)}`)).toEqual([low!.job_id, medium!.job_id]);
    expect(await ids(`due_after=${isoDay(2)}`)).toEqual([medium!.job_id, high!.job_id]);
    expect(await ids("sort=-priority")).toEqual([undated!.job_id, high!.job_id, medium!.job_id, low!.job_id]);
    expect(await ids("sort=due_date")).toEqual([low!.job_id, medium!.job_id, high!.job_id, undated!.job_id]);
    expect(await ids("sort=-due_date")).toEqual([undated!.job_id, high!.job_id, medium!.job_id, low!.job_id]);

    const list = await request("GET", jobsPath(project.project_id), { token: project.pm.token });
    expect(list.body.data[1].progress).toEqual({ annotated: 1, total: 2 });
  });

  it("pages with a stable cursor on every sort", async () => {
    const project = await annotationProject({ rows: 5 });
    const created = await createJobs(project.pm, project.project_id, { name: "Page", table_id: project.table_id, split_size: 1 });
    for (const sort of ["created_at", "-created_at", "name", "-priority", "due_date"]) {
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const url: string = `${jobsPath(project.project_id)}?limit=2&sort=${sort}${cursor ? `&cursor=${cursor}` : ""}`;
        const page = await request("GET", url, { token: project.pm.token });
        expect(page.status, JSON.stringify(page.body)).toBe(200);
        seen.push(...page.body.data.map((job: { job_id: number }) => job.job_id));
        cursor = page.body.next_cursor;
      } while (cursor);
      expect(seen.sort((a, b) => a - b), sort).toEqual(created.map((job) => job.job_id).sort((a, b) => a - b));
    }
    const forged = await request("GET", `${jobsPath(project.project_id)}?sort=due_date&cursor=${btoa(JSON.stringify(["due_date", "x", 1]))}`, { token: project.pm.token });
    expect(forged.status).toBe(422);
  });

  it("shows staff only the jobs assigned to them, clients their organization's, outsiders nothing", async () => {
    const { project_id, table_id, pm, annotator, job, client } = await staffedJob();
    const unassigned = await createJob(pm, project_id, { table_id });
    const mine = await request("GET", jobsPath(project_id), { token: annotator.token });
    expect(mine.body.data.map((row: { job_id: number }) => row.job_id)).toEqual([job.job_id]);
    const everywhere = await request("GET", "/api/v1/annotation-jobs", { token: annotator.token });
    expect(everywhere.status).toBe(200);
    expect(everywhere.roundTrips).toBe(1);
    expect(everywhere.body.data.map((row: { job_id: number }) => row.job_id)).toEqual([job.job_id]);

    const clientView = await request("GET", jobsPath(project_id), { token: client.token });
    expect(clientView.body.data.map((row: { job_id: number }) => row.job_id)).toEqual([job.job_id, unassigned.job_id]);

    const clientEverywhere = await request("GET", "/api/v1/annotation-jobs", { token: client.token });
    expect(clientEverywhere.body.data.map((row: { job_id: number }) => row.job_id).sort((a: number, b: number) => a - b)).toEqual(
      [job.job_id, unassigned.job_id].sort((a, b) => a - b),
    );

    const outsider = await createUser("annotator");
    const foreignClient = await registerClient();
    expect((await request("GET", jobsPath(project_id), { token: outsider.token })).status).toBe(404);
    expect((await request("GET", jobsPath(project_id), { token: foreignClient.token })).status).toBe(404);
    expect((await request("GET", "/api/v1/annotation-jobs", { token: outsider.token })).body.data).toEqual([]);
    // Another client organization's cross-project listing: 200, and none of these jobs (it has none of its own).
    const foreignView = await request("GET", "/api/v1/annotation-jobs", { token: foreignClient.token });
    expect(foreignView.status).toBe(200);
    expect(foreignView.body).toEqual({ data: [], next_cursor: null });
  });
});

describe("GET /annotation-jobs/{job_id}", () => {
  it("answers the job with its progress and an ETag, in one round trip", async () => {
    const { job, annotator, client } = await staffedJob({ rows: 4 });
    await annotateRows(annotator, job.job_id, 0, 1);
    const response = await request("GET", `/api/v1/annotation-jobs/${job.job_id}`, { token: client.token });
    expect(response.status).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(response.headers.get("etag")).toMatch(/^"[\w-]+"$/);
    expect(response.body).toMatchObject({ job_id: job.job_id, status: "in_progress", progress: { annotated: 2, total: 4 } });
    expect((await request("GET", `/api/v1/annotation-jobs/${job.job_id}`, { token: (await registerClient()).token })).status).toBe(404);
  });
});

describe("PATCH /annotation-jobs/{job_id}", () => {
  it("changes the pm's fields under If-Match and audits only what changed", async () => {
    const { job, pm, annotator } = await staffedJob();
    const read = await request("GET", `/api/v1/annotation-jobs/${job.job_id}`, { token: pm.token });
    const etag = read.headers.get("etag")!;
    const changed = await request("PATCH", `/api/v1/annotation-jobs/${job.job_id}`, {
      token: pm.token,
      headers: { "if-match": etag },
      body: { name: "Renamed", priority: read.body.priority, estimated_hours: 3, due_date: isoDay(3) },
    });
    expect(changed.status).toBe(200);
    expect(changed.roundTrips).toBe(1);
    expect(changed.body).toMatchObject({ name: "Renamed", estimated_hours: 3, due_date: isoDay(3) });
    expect(changed.headers.get("etag")).not.toBe(etag);
    const events = await eventActions({ entity_type: "annotation_job", entity_id: job.job_id });
    expect(events.at(-1)).toMatchObject({
      action: "annotation_job.update",
      before: { name: read.body.name, estimated_hours: null, due_date: null },
      after: { name: "Renamed", estimated_hours: 3, due_date: isoDay(3) },
    });

    const stale = await request("PATCH", `/api/v1/annotation-jobs/${job.job_id}`, { token: pm.token, headers: { "if-match": etag }, body: { name: "Again" } });
    expect(stale.status).toBe(412);
    expect(stale.roundTrips).toBe(1);

    const byAnnotator = await request("PATCH", `/api/v1/annotation-jobs/${job.job_id}`, { token: annotator.token, body: { priority: "high" } });
    expect(byAnnotator.status).toBe(403);
    expect(byAnnotator.body.detail).toBe("Only the project's pm or a platform admin can change a job's fields.");

    const beforeCreation = await request("PATCH", `/api/v1/annotation-jobs/${job.job_id}`, { token: pm.token, body: { due_date: "2020-01-01" } });
    expect(beforeCreation.status).toBe(422);
    expect(beforeCreation.body.errors).toEqual([{ path: "body.due_date", message: "must not be before the day the job was created" }]);

    const unchanged = await request("PATCH", `/api/v1/annotation-jobs/${job.job_id}`, { token: pm.token, body: { name: "Renamed" } });
    expect(unchanged.status).toBe(200);
    expect(unchanged.headers.get("etag")).toBe(changed.headers.get("etag"));
    expect(await eventActions({ entity_type: "annotation_job", entity_id: job.job_id })).toHaveLength(events.length);
  });

  it("starts a job explicitly, moving its ready project to in_progress, audited in the same statement", async () => {
    const { job, pm, project_id } = await staffedJob();
    const started = await setStatus(pm, job.job_id, "in_progress");
    expect(started.status).toBe(200);
    expect(started.roundTrips).toBe(1);
    expect(started.body.status).toBe("in_progress");
    const project = await request("GET", `/api/v1/projects/${project_id}`, { token: pm.token });
    expect(project.body.status).toBe("in_progress");
    const events = await eventActions({ project_id });
    const last = events.filter((event) => event.request_id === events.at(-1)!.request_id);
    expect(last.map((event) => event.action).sort()).toEqual(["annotation_job.start", "project.update"]);
    expect(last.find((event) => event.action === "project.update")).toMatchObject({
      before: { status: "ready_for_annotation" },
      after: { status: "in_progress" },
    });
  });

  it("answers illegal moves with 409 naming the legal ones, and submit only when every row is annotated", async () => {
    const { job, pm, annotator, reviewer } = await staffedJob({ rows: 3 });
    const early = await setStatus(annotator, job.job_id, "submitted");
    expect(early.status).toBe(409);
    expect(early.body.detail).toBe(
      `Job ${job.job_id} cannot move from not_started to submitted; the legal moves from not_started are ` +
        "`in_progress` (start: the first annotation saved on the job, or `PATCH {status: in_progress}`).",
    );
    await annotate(annotator, job.job_id, 0, { label: "a" });
    const incomplete = await setStatus(annotator, job.job_id, "submitted");
    expect(incomplete.status).toBe(409);
    expect(incomplete.roundTrips).toBe(1);
    expect(incomplete.body.detail).toBe(
      `Job ${job.job_id} cannot be submitted: 2 of its 3 rows have no response of yours yet (the first is row 1); annotate every row before submitting.`,
    );
    await annotateRows(annotator, job.job_id, 1, 2);

    const byReviewer = await setStatus(reviewer, job.job_id, "submitted");
    expect(byReviewer.status).toBe(403);
    expect(byReviewer.body.detail).toBe(`Only an assigned annotator or a platform admin can submit job ${job.job_id}.`);
    const byPm = await setStatus(pm, job.job_id, "submitted");
    expect(byPm.status).toBe(403);

    const submitted = await setStatus(annotator, job.job_id, "submitted");
    expect(submitted.status).toBe(200);
    expect(submitted.body).toMatchObject({ status: "submitted", progress: { annotated: 3, total: 3 } });
    expect(submitted.body.submitted_at).toEqual(expect.any(String));

    const approveByPatch = await setStatus(pm, job.job_id, "reviewed");
    expect(approveByPatch.status).toBe(409);
    expect(approveByPatch.body.detail).toBe(
      `Job ${job.job_id} cannot move from submitted to reviewed with PATCH; that move is made by \`POST /annotation-jobs/{job_id}/reviews {status: approved}\`.`,
    );
    const back = await setStatus(pm, job.job_id, "not_started");
    expect(back.status).toBe(409);
    expect(back.body.detail).toContain("the legal moves from submitted are `reviewed` (approve:");
  });
});

describe("DELETE /annotation-jobs/{job_id} and restore", () => {
  it("soft-deletes under If-Match, hides the job from everyone but admins asking for it, and restores", async () => {
    const { job, pm, annotator, project_id } = await staffedJob();
    const admin = await createUser("admin");
    const read = await request("GET", `/api/v1/annotation-jobs/${job.job_id}`, { token: pm.token });
    expect((await request("DELETE", `/api/v1/annotation-jobs/${job.job_id}`, { token: annotator.token })).status).toBe(403);
    await db.execute(sql`update annotation_job set instructions = 'changed behind your back' where job_id = ${job.job_id}`);
    await db.execute(sql`update annotation_job set updated_at = now() where job_id = ${job.job_id}`);
    const stale = await request("DELETE", `/api/v1/annotation-jobs/${job.job_id}`, { token: pm.token, headers: { "if-match": read.headers.get("etag")! } });
    expect(stale.status).toBe(412);

    const deleted = await request("DELETE", `/api/v1/annotation-jobs/${job.job_id}`, { token: pm.token });
    expect(deleted.status).toBe(204);
    expect(deleted.roundTrips).toBe(1);
    expect((await request("GET", `/api/v1/annotation-jobs/${job.job_id}`, { token: pm.token })).status).toBe(404);
    expect((await request("GET", `/api/v1/annotation-jobs/${job.job_id}`, { token: annotator.token })).status).toBe(404);
    expect((await request("GET", `/api/v1/projects/${project_id}/annotation-jobs`, { token: pm.token })).body.data).toEqual([]);
    expect((await request("GET", `/api/v1/annotation-jobs/${job.job_id}?include_deleted=true`, { token: pm.token })).status).toBe(403);
    const asAdmin = await request("GET", `/api/v1/annotation-jobs/${job.job_id}?include_deleted=true`, { token: admin.token });
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body.deleted_at).toEqual(expect.any(String));

    const restored = await request("POST", `/api/v1/annotation-jobs/${job.job_id}/restore`, { token: pm.token });
    expect(restored.status).toBe(200);
    expect(restored.roundTrips).toBe(1);
    expect(restored.body.deleted_at).toBeNull();
    const again = await request("POST", `/api/v1/annotation-jobs/${job.job_id}/restore`, { token: pm.token });
    expect(again.status).toBe(409);
    const actions = (await eventActions({ entity_type: "annotation_job", entity_id: job.job_id })).map((event) => event.action);
    expect(actions.slice(-2)).toEqual(["annotation_job.delete", "annotation_job.restore"]);
  });
});

describe("GET /projects/{project_id} job progress rollup", () => {
  it("sums the live jobs' progress by status in the project's one round trip", async () => {
    const { project_id, table_id, pm, annotator, job } = await staffedJob({ rows: 4 });
    await createJobs(pm, project_id, { name: "More", table_id, split_size: 2 });
    await annotateRows(annotator, job.job_id, 0, 2);
    const project = await request("GET", `/api/v1/projects/${project_id}`, { token: pm.token });
    expect(project.status).toBe(200);
    expect(project.roundTrips).toBe(1);
    expect(project.body.job_progress).toEqual({
      jobs: { total: 3, not_started: 2, in_progress: 1, submitted: 0, awaiting_qc: 0, reviewed: 0 },
      annotated: 3,
      total: 8,
    });
  });
});
