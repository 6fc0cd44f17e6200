import { describe, expect, it } from "vitest";
import { sql, testDb } from "./helpers/db.ts";
import { createUser } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import { annotationProject, assign, createJob, eventActions, staffedJob } from "./helpers/annotation.ts";

const db = testDb();
const assignmentsPath = (jobId: number) => `/api/v1/annotation-jobs/${jobId}/assignments`;

describe("POST /annotation-jobs/{job_id}/assignments", () => {
  it("assigns platform staff holding the role, in one round trip, audited; the assignee then sees the job", async () => {
    const project = await annotationProject({ rows: 2 });
    const job = await createJob(project.pm, project.project_id, { table_id: project.table_id });
    const annotator = await createUser("annotator");
    expect((await request("GET", `/api/v1/annotation-jobs/${job.job_id}`, { token: annotator.token })).status).toBe(404);

    const created = await request("POST", assignmentsPath(job.job_id), { token: project.pm.token, body: { user_id: annotator.user_id, role: "annotator" } });
    expect(created.status).toBe(201);
    expect(created.roundTrips).toBe(1);
    expect(created.body).toEqual({
      assignment_id: expect.any(Number),
      job_id: job.job_id,
      user_id: annotator.user_id,
      role: "annotator",
      assigned_by: project.pm.user_id,
      created_at: expect.any(String),
    });
    expect(await eventActions({ entity_type: "assignment", entity_id: created.body.assignment_id })).toEqual([
      expect.objectContaining({ action: "assignment.create", after: { job_id: job.job_id, user_id: annotator.user_id, role: "annotator" } }),
    ]);
    expect((await request("GET", `/api/v1/annotation-jobs/${job.job_id}`, { token: annotator.token })).status).toBe(200);

    const twice = await request("POST", assignmentsPath(job.job_id), { token: project.pm.token, body: { user_id: annotator.user_id, role: "annotator" } });
    expect(twice.status).toBe(409);
    expect(twice.body.detail).toBe(`User ${annotator.user_id} is already assigned to job ${job.job_id} as annotator.`);
  });

  it("refuses users who are not live platform staff holding that role (422)", async () => {
    const project = await annotationProject({ rows: 1 });
    const job = await createJob(project.pm, project.project_id, { table_id: project.table_id });
    const [reviewer, retired] = await Promise.all([createUser("reviewer"), createUser("annotator")]);
    await db.execute(sql`update "user" set deleted_at = now() where user_id = ${retired.user_id}`);
    for (const [user_id, role] of [
      [reviewer.user_id, "annotator"],
      [project.client.user_id, "annotator"],
      [retired.user_id, "annotator"],
      [999_999_999, "qc"],
    ] as const) {
      const refused = await request("POST", assignmentsPath(job.job_id), { token: project.pm.token, body: { user_id, role } });
      expect(refused.status).toBe(422);
      expect(refused.body.errors).toEqual([{ path: "body.user_id", message: `must be an active platform user holding the ${role} role` }]);
    }
  });

  it("is for the project's pm and admins: assignees and clients get 403, outsiders 404", async () => {
    const { job, annotator, client } = await staffedJob();
    const candidate = await createUser("qc");
    for (const account of [annotator, client]) {
      const refused = await request("POST", assignmentsPath(job.job_id), { token: account.token, body: { user_id: candidate.user_id, role: "qc" } });
      expect(refused.status).toBe(403);
      expect(refused.roundTrips).toBe(1);
    }
    expect((await request("POST", assignmentsPath(job.job_id), { token: (await createUser("pm")).token, body: { user_id: candidate.user_id, role: "qc" } })).status).toBe(404);
    expect((await request("POST", assignmentsPath(job.job_id), { token: (await createUser("admin")).token, body: { user_id: candidate.user_id, role: "qc" } })).status).toBe(201);
  });
});

describe("GET /annotation-jobs/{job_id}/assignments", () => {
  it("lists a job's assignments oldest first, by role, paged, in one round trip, to everyone who sees the job", async () => {
    const { job, annotator, reviewer, qc, client } = await staffedJob();
    const all = await request("GET", assignmentsPath(job.job_id), { token: client.token });
    expect(all.status).toBe(200);
    expect(all.roundTrips).toBe(1);
    expect(all.body.data.map((row: { user_id: number; role: string }) => [row.user_id, row.role])).toEqual([
      [annotator.user_id, "annotator"],
      [reviewer.user_id, "reviewer"],
      [qc.user_id, "qc"],
    ]);
    const reviewers = await request("GET", `${assignmentsPath(job.job_id)}?role=reviewer`, { token: annotator.token });
    expect(reviewers.body.data.map((row: { user_id: number }) => row.user_id)).toEqual([reviewer.user_id]);
    const paged = await request("GET", `${assignmentsPath(job.job_id)}?limit=2`, { token: annotator.token });
    const next = await request("GET", `${assignmentsPath(job.job_id)}?limit=2&cursor=${paged.body.next_cursor}`, { token: annotator.token });
    expect(next.body).toEqual({ data: [expect.objectContaining({ user_id: qc.user_id })], next_cursor: null });
    expect((await request("GET", assignmentsPath(job.job_id), { token: (await createUser("annotator")).token })).status).toBe(404);
  });
});

describe("DELETE /assignments/{assignment_id}", () => {
  it("removes the assignment in one round trip, audited; its holder loses sight of the job", async () => {
    const project = await annotationProject({ rows: 1 });
    const job = await createJob(project.pm, project.project_id, { table_id: project.table_id });
    const annotator = await createUser("annotator");
    const { assignment_id } = await assign(project.pm, job.job_id, annotator, "annotator");

    const refused = await request("DELETE", `/api/v1/assignments/${assignment_id}`, { token: annotator.token });
    expect(refused.status).toBe(403);
    expect(refused.roundTrips).toBe(1);

    const removed = await request("DELETE", `/api/v1/assignments/${assignment_id}`, { token: project.pm.token });
    expect(removed.status).toBe(204);
    expect(removed.roundTrips).toBe(1);
    expect(await eventActions({ entity_type: "assignment", entity_id: assignment_id })).toEqual([
      expect.objectContaining({ action: "assignment.create" }),
      expect.objectContaining({ action: "assignment.delete", before: { job_id: job.job_id, user_id: annotator.user_id, role: "annotator" } }),
    ]);
    expect((await request("GET", `/api/v1/annotation-jobs/${job.job_id}`, { token: annotator.token })).status).toBe(404);
    expect((await request("DELETE", `/api/v1/assignments/${assignment_id}`, { token: project.pm.token })).status).toBe(404);
  });
});
