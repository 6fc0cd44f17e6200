/**
 * What a job's status move does besides changing the job, as CTEs for the statement
 * that makes the move: its audit event, and the project following its first started job.
 */
import { sql, type SQL } from "drizzle-orm";
import { auditInsert } from "../../lib/audit.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { sqlList } from "../../lib/query-params.ts";
import { PROJECT_STATUSES_STARTED_BY_WORK, transitionNamed, type JobTransition } from "./job-status.ts";

/**
 * The `annotation_job.<move>` event for every row of `moved`, a CTE with the job's
 * `job_id`, `project_id`, `org_id`, new `status` and `previous_status`.
 */
export function transitionAudit(ctx: AuthenticatedContext, name: JobTransition["name"], moved: string, extra?: { after?: SQL }): SQL {
  const transition = transitionNamed(name);
  const m = sql.raw(moved);
  return auditInsert(ctx, {
    action: `annotation_job.${transition.name}`,
    entity_type: "annotation_job",
    entity_id: sql`${m}.job_id`,
    org_id: sql`${m}.org_id`,
    project_id: sql`${m}.project_id`,
    before: sql`jsonb_build_object('status', ${m}.previous_status)`,
    after: extra?.after ?? sql`jsonb_build_object('status', ${m}.status)`,
  }, sql`${m} where ${m}.previous_status = ${transition.from}::annotation_job_status and ${m}.status = ${transition.to}::annotation_job_status`);
}

/**
 * CTEs `project_started` and `project_started_audit`: a job of `started` (a CTE with
 * `project_id`, `org_id` and the project's status as read, `project_status`) moves its
 * project to in_progress if the project had not started or had completed, audited as
 * project.update.
 */
export function projectFollowsStart(ctx: AuthenticatedContext, started: string): SQL {
  const s = sql.raw(started);
  return sql`project_started as (
      update project pr set status = 'in_progress', completed_at = null, updated_at = now()
      from (select distinct ${s}.project_id, ${s}.project_status from ${s}) moved
      where pr.project_id = moved.project_id and pr.status in (${sqlList(PROJECT_STATUSES_STARTED_BY_WORK)})
      returning pr.project_id, pr.org_id, moved.project_status as previous_status
    ), project_started_audit as (
      ${auditInsert(ctx, {
        action: "project.update",
        entity_type: "project",
        entity_id: sql`project_started.project_id`,
        org_id: sql`project_started.org_id`,
        project_id: sql`project_started.project_id`,
        before: sql`jsonb_build_object('status', project_started.previous_status)`,
        after: sql`jsonb_build_object('status', 'in_progress')`,
      }, sql`project_started`)}
    )`;
}
