/**
 * Several annotators per row: each annotator submits their own responses of a job
 * (`PATCH /annotation-jobs/{id} {status: "submitted"}`), recorded in job_submission; the
 * job itself moves to `submitted` with the submission that brings their number to its
 * `annotations_per_row` (annotation-jobs.service.ts). A rejection clears them
 * (reviews.service.ts), so every annotator submits again after fixing their work.
 */
import { sql, type SQL } from "drizzle-orm";
import { auditInsert } from "../../lib/audit.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import type { JobRow } from "./annotation-jobs.presenters.ts";

/** Over `scope`: how many rows of the job's range have a response by `annotatorId`. */
export function callerAnnotated(annotatorId: number): SQL {
  return sql`(select count(*)::int from annotation ca where ca.job_id = scope.job_id
    and ca.row_index between scope.row_start and scope.row_end and ca.annotator_id = ${annotatorId}::integer)`;
}

/**
 * CTEs `submission` and `audited_submission` for the update statement of a submit (over
 * its `checks` CTE): the caller's submission when every check passed and the job was in
 * progress, audited as job_submission.create.
 */
export function submissionRecorded(ctx: AuthenticatedContext): SQL {
  return sql`submission as (
      insert into job_submission (job_id, annotator_id)
      select checks.job_id, ${ctx.principal.user_id}::integer from checks
      where checks.passed and checks.status = 'in_progress'
      on conflict do nothing
      returning job_id, annotator_id, submitted_at
    ), audited_submission as (
      ${auditInsert(ctx, {
        action: "job_submission.create",
        entity_type: "job_submission",
        entity_id: sql`submission.job_id`,
        org_id: sql`checks.org_id`,
        project_id: sql`checks.project_id`,
        after: sql`jsonb_build_object('job_id', submission.job_id, 'annotator_id', submission.annotator_id,
          'job_submitted', checks.enough_submissions)`,
      }, sql`submission cross join checks`)}
    )`;
}

/** The statement fragment of a rejection that clears the job's submissions (a CTE over `checks` and `moved`). */
export function submissionsCleared(): SQL {
  return sql`submissions_cleared as (
      delete from job_submission js using moved where js.job_id = moved.job_id and moved.status = 'in_progress'
      returning js.job_id
    )`;
}

/** The job as its submit statement answers it: the submission it made is not in that statement's snapshot, so it is added here. */
export function withSubmission(job: JobRow, annotatorId: number | null): JobRow {
  if (annotatorId === null) return job;
  const submitted = [...new Set([...(job.submitted_annotators ?? []), annotatorId])].sort((a, b) => a - b);
  return { ...job, submitted_annotators: submitted };
}
