import { sql } from "drizzle-orm";
import { jobVisible } from "../../lib/access.ts";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import { encodeCursor, type Page } from "../../lib/pagination.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { runWrite } from "../../lib/write.ts";
import { can } from "../auth/principal.ts";
import { capacity, checksCte, firstFailure, idAfter, jobNotFound, jobScope, jobScopedRows, managesProject, type Check, type JobScopeRow } from "../annotation-jobs/job-scope.ts";

type Role = "annotator" | "reviewer" | "qc";

type AssignmentRow = {
  assignment_id: number;
  job_id: number;
  user_id: number;
  role: Role;
  assigned_by: number | null;
  created_at: string;
};

function present(row: AssignmentRow) {
  return {
    assignment_id: row.assignment_id,
    job_id: row.job_id,
    user_id: row.user_id,
    role: row.role,
    assigned_by: row.assigned_by,
    created_at: isoTimestamp(row.created_at),
  };
}

export type AssignmentView = ReturnType<typeof present>;

const MAY_ASSIGN_DETAIL = "Only the project's pm or a platform admin can assign people to a job.";

/**
 * One statement: the job (visible), the caller (its manager), the user (live platform
 * staff holding the role) are checked; the assignment is inserted unless it exists
 * (ON CONFLICT DO NOTHING, so a concurrent twin is a clean 409), and audited.
 */
export async function createAssignment(ctx: AuthenticatedContext, jobId: number, input: { user_id: number; role: Role }): Promise<AssignmentView> {
  const checks: Check<JobScopeRow>[] = [
    { name: "may_assign", holds: capacity(ctx.principal, "manager", "job:assign"), fail: () => new ApiError("forbidden", MAY_ASSIGN_DETAIL) },
    {
      name: "staff",
      holds: sql`exists (select 1 from "user" u
        join organization o on o.org_id = u.org_id and o.kind = 'platform' and o.deleted_at is null
        join user_role ur on ur.user_id = u.user_id join role r on r.role_id = ur.role_id
        where u.user_id = ${input.user_id}::integer and u.deleted_at is null and u.is_active and r.name = ${input.role}::text)`,
      fail: () =>
        new ApiError("validation_failed", "The request body is invalid.", {
          errors: [{ path: "body.user_id", message: `must be an active platform user holding the ${input.role} role` }],
        }),
    },
  ];
  const [rows = []] = await runWrite(ctx, [
    sql`with ${jobScope(ctx, jobId)},
      ${checksCte(checks)},
      created as (
        insert into assignment (job_id, user_id, role, assigned_by)
        select checks.job_id, ${input.user_id}::integer, ${input.role}::assignment_role, ${ctx.principal.user_id}::integer
        from checks where checks.passed
        on conflict (job_id, user_id, role) do nothing
        returning *
      ), audited as (
        ${auditInsert(ctx, {
          action: "assignment.create",
          entity_type: "assignment",
          entity_id: sql`created.assignment_id`,
          org_id: sql`checks.org_id`,
          project_id: sql`checks.project_id`,
          after: sql`jsonb_build_object('job_id', created.job_id, 'user_id', created.user_id, 'role', created.role)`,
        }, sql`created cross join checks`)}
      )
      select checks.*, (select row_to_json(created) from created) as assignment from checks`,
  ]);
  const row = rows[0] as (JobScopeRow & Record<string, unknown> & { assignment: AssignmentRow | null }) | undefined;
  if (!row) throw jobNotFound(jobId);
  const failure = firstFailure(row, checks);
  if (failure) throw failure;
  if (!row.assignment) {
    throw new ApiError("conflict", `User ${input.user_id} is already assigned to job ${jobId} as ${input.role}.`);
  }
  return present(row.assignment);
}

export async function listAssignments(
  ctx: AuthenticatedContext,
  jobId: number,
  query: { limit: number; cursor?: string | undefined; role?: Role | undefined },
): Promise<Page<AssignmentView>> {
  const after = idAfter(query.cursor, "assignment_id");
  const listed = await jobScopedRows<AssignmentRow>(
    ctx,
    jobId,
    sql`select a.assignment_id, a.job_id, a.user_id, a.role, a.assigned_by, a.created_at::text as created_at
      from assignment a
      where a.job_id = scope.job_id
        ${query.role ? sql`and a.role = ${query.role}::assignment_role` : sql``}
        ${after === null ? sql`` : sql`and a.assignment_id > ${after}::integer`}
      order by a.assignment_id limit ${query.limit + 1}`,
    "assignment_id",
    sql`listed.assignment_id`,
  );
  if (!listed) throw jobNotFound(jobId);
  if (!can(ctx.principal, "job:read")) throw new ApiError("forbidden", "Your role does not allow reading annotation jobs (job:read).");
  const page = listed.rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    data: page.map(present),
    next_cursor: listed.rows.length > query.limit && last ? encodeCursor("assignment_id", null, last.assignment_id) : null,
  };
}

/** One statement: the assignment (of a visible live job) is deleted if the caller manages the job's project, and audited. */
export async function deleteAssignment(ctx: AuthenticatedContext, assignmentId: number): Promise<void> {
  const mayAssign = can(ctx.principal, "job:assign");
  const [rows = []] = await runWrite(ctx, [
    sql`with target as (
        select a.*, j.project_id, p.org_id, ${managesProject(ctx.principal, "p")} as caller_manages
        from assignment a
        join annotation_job j on j.job_id = a.job_id
        join project p on p.project_id = j.project_id
        where a.assignment_id = ${assignmentId}::integer and j.deleted_at is null and p.deleted_at is null
          and ${jobVisible(ctx.principal, "j", "p")}
      ), deleted as (
        delete from assignment d using target
        where d.assignment_id = target.assignment_id and ${mayAssign}::boolean and target.caller_manages
        returning d.assignment_id
      ), audited as (
        ${auditInsert(ctx, {
          action: "assignment.delete",
          entity_type: "assignment",
          entity_id: sql`target.assignment_id`,
          org_id: sql`target.org_id`,
          project_id: sql`target.project_id`,
          before: sql`jsonb_build_object('job_id', target.job_id, 'user_id', target.user_id, 'role', target.role)`,
        }, sql`target join deleted on deleted.assignment_id = target.assignment_id`)}
      )
      select target.caller_manages, exists (select 1 from deleted) as deleted from target`,
  ]);
  const row = rows[0] as { caller_manages: boolean; deleted: boolean } | undefined;
  if (!row) throw new ApiError("not_found", `Assignment ${assignmentId} does not exist.`);
  if (!mayAssign || !row.caller_manages) throw new ApiError("forbidden", MAY_ASSIGN_DETAIL);
  // Deleted by a concurrent request between this statement's snapshot and its DELETE.
  if (!row.deleted) throw new ApiError("not_found", `Assignment ${assignmentId} does not exist.`);
}
