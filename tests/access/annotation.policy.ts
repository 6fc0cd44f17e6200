import { storeConsensus } from "../helpers/consensus.ts";
import { sql, testDb } from "../helpers/db.ts";
import { unique } from "../helpers/factories.ts";
import { statuses, type OperationPolicy, type World } from "./policy.ts";

/**
 * The annotation workflow: jobs, assignments, items and annotations, reviews, comments.
 * Admins and the project's pm manage jobs; annotators, reviewers and qc see only the jobs
 * they are assigned to and act there as their assignment allows; the client
 * organization reads its jobs, progress and threads, and its results once approved (the
 * world's job is not, so items are 403 to clients here; tests/annotations.test.ts covers
 * the approved case); the other client sees nothing (404). Changes aim at a fresh job per
 * actor, staffed like the world's job.
 */

const db = testDb();

type JobState = "not_started" | "in_progress" | "submitted" | "reviewed";

/** A job over the world's table, assigned to the world's annotator, reviewer and qc; annotated unless not_started. */
export async function freshJob(world: World, options: { state?: JobState; deleted?: boolean } = {}): Promise<number> {
  const state = options.state ?? "not_started";
  const result = await db.execute(sql`
    with job as (
      insert into annotation_job (project_id, table_id, name, row_start, row_end, status, created_by, submitted_at, deleted_at)
      values (${world.project_id}, ${world.table_id}, ${unique("Matrix job")}, 0, 2, ${state}::annotation_job_status,
        ${world.accounts.pm.user_id}, ${state === "submitted" ? sql`now()` : sql`null`}, ${options.deleted ? sql`now()` : sql`null`})
      returning job_id
    ), assigned as (
      insert into assignment (job_id, user_id, role, assigned_by)
      select job.job_id, staff.user_id, staff.role::assignment_role, ${world.accounts.pm.user_id}
      from job, (values (${world.accounts.annotator.user_id}::integer, 'annotator'), (${world.accounts.reviewer.user_id}::integer, 'reviewer'),
        (${world.accounts.qc.user_id}::integer, 'qc')) as staff(user_id, role)
    ), annotated as (
      insert into annotation (job_id, row_index, annotator_id, data, own_final, own_agreed, updated_by)
      select job.job_id, row_index, ${world.accounts.annotator.user_id}, jsonb_build_object('label', 'a'), '{}'::jsonb, false, ${world.accounts.annotator.user_id}
      from job, generate_series(0, 2) as row_index where ${state !== "not_started"}::boolean
    )
    select job_id from job`);
  const jobId = (result.rows[0] as { job_id: number }).job_id;
  if (state !== "not_started") {
    // A second statement: the revisions' foreign key needs the annotations committed by the first.
    await db.execute(sql`insert into annotation_revision (job_id, row_index, annotator_id, version, data, created_by)
      select job_id, row_index, annotator_id, version, data, updated_by from annotation where job_id = ${jobId}`);
    await storeConsensus(jobId);
  }
  return jobId;
}

async function assignmentOf(jobId: number, role: string): Promise<number> {
  const result = await db.execute(sql`select assignment_id from assignment where job_id = ${jobId} and role = ${role}::assignment_role`);
  return (result.rows[0] as { assignment_id: number }).assignment_id;
}

/** A platform qc who never signs in: only ever the target of an assignment. */
async function insertQc(): Promise<number> {
  const result = await db.execute(sql`with created as (
      insert into "user" (org_id, email, full_name, password_hash)
      select org_id, ${`${unique("matrix-qc")}@platform.test`}, 'Matrix QC', 'not-a-password-hash' from organization where kind = 'platform'
      returning user_id
    ), granted as (
      insert into user_role (user_id, role_id) select created.user_id, role.role_id from created, role where role.name = 'qc'
    )
    select user_id from created`);
  return (result.rows[0] as { user_id: number }).user_id;
}

const everyoneWhoSeesTheJob = statuses(200, { other_client: 404 });
const managers = (status: number) => statuses(403, { admin: status, pm: status, other_client: 404 });
const platformPeople = (status: number) => statuses(403, { admin: status, pm: status, annotator: status, reviewer: status, qc: status, other_client: 404 });

export const policies: OperationPolicy[] = [
  {
    operationId: "createAnnotationJobs",
    request: (world) => ({
      method: "POST",
      path: `/api/v1/projects/${world.project_id}/annotation-jobs`,
      body: { name: unique("Matrix"), table_id: world.table_id, priority: "low" },
    }),
    expect: managers(201),
  },
  {
    operationId: "listProjectAnnotationJobs",
    request: (world) => ({ method: "GET", path: `/api/v1/projects/${world.project_id}/annotation-jobs` }),
    expect: everyoneWhoSeesTheJob,
  },
  { operationId: "listAnnotationJobs", request: () => ({ method: "GET", path: "/api/v1/annotation-jobs" }), expect: statuses(200, {}) },
  {
    operationId: "getAnnotationJob",
    request: (world) => ({ method: "GET", path: `/api/v1/annotation-jobs/${world.job_id}` }),
    expect: everyoneWhoSeesTheJob,
  },
  {
    operationId: "updateAnnotationJob",
    request: async (world) => ({ method: "PATCH", path: `/api/v1/annotation-jobs/${await freshJob(world)}`, body: { priority: "high" } }),
    expect: managers(200),
  },
  {
    operationId: "deleteAnnotationJob",
    request: async (world) => ({ method: "DELETE", path: `/api/v1/annotation-jobs/${await freshJob(world)}` }),
    expect: managers(204),
  },
  {
    operationId: "restoreAnnotationJob",
    request: async (world) => ({ method: "POST", path: `/api/v1/annotation-jobs/${await freshJob(world, { deleted: true })}/restore` }),
    expect: managers(200),
  },
  {
    operationId: "createAssignment",
    request: async (world) => ({
      method: "POST",
      path: `/api/v1/annotation-jobs/${await freshJob(world)}/assignments`,
      body: { user_id: await insertQc(), role: "qc" },
    }),
    expect: managers(201),
  },
  {
    operationId: "listAssignments",
    request: (world) => ({ method: "GET", path: `/api/v1/annotation-jobs/${world.job_id}/assignments` }),
    expect: everyoneWhoSeesTheJob,
  },
  {
    operationId: "deleteAssignment",
    request: async (world) => ({ method: "DELETE", path: `/api/v1/assignments/${await assignmentOf(await freshJob(world), "qc")}` }),
    expect: managers(204),
  },
  {
    operationId: "listJobItems",
    request: (world) => ({ method: "GET", path: `/api/v1/annotation-jobs/${world.job_id}/items` }),
    expect: platformPeople(200),
  },
  {
    operationId: "getAnnotation",
    request: async (world) => ({ method: "GET", path: `/api/v1/annotation-jobs/${await freshJob(world, { state: "in_progress" })}/items/1/annotation` }),
    expect: platformPeople(200),
  },
  {
    operationId: "saveAnnotation",
    request: async (world) => ({
      method: "PUT",
      path: `/api/v1/annotation-jobs/${await freshJob(world)}/items/0/annotation`,
      body: { data: { label: "matrix" } },
    }),
    expect: statuses(403, { admin: 201, annotator: 201, other_client: 404 }),
  },
  {
    operationId: "listAnnotationHistory",
    request: async (world) => ({
      method: "GET",
      path: `/api/v1/annotation-jobs/${await freshJob(world, { state: "in_progress" })}/items/2/annotation/history`,
    }),
    expect: platformPeople(200),
  },
  {
    operationId: "createReview",
    request: async (world) => ({
      method: "POST",
      path: `/api/v1/annotation-jobs/${await freshJob(world, { state: "submitted" })}/reviews`,
      body: { status: "approved" },
    }),
    expect: statuses(403, { admin: 201, pm: 201, reviewer: 201, qc: 201, other_client: 404 }),
  },
  {
    operationId: "listReviews",
    request: (world) => ({ method: "GET", path: `/api/v1/annotation-jobs/${world.job_id}/reviews` }),
    expect: statuses(200, { client_member: 403, other_client: 404 }),
  },
  {
    operationId: "createComment",
    request: (world) => ({ method: "POST", path: `/api/v1/annotation-jobs/${world.job_id}/comments`, body: { body: "Matrix comment" } }),
    expect: platformPeople(201),
  },
  {
    operationId: "listComments",
    request: (world) => ({ method: "GET", path: `/api/v1/annotation-jobs/${world.job_id}/comments` }),
    expect: everyoneWhoSeesTheJob,
  },
];
