/** A project's statistics (stats-sql.ts defines each figure): the access check and every figure in one query. */
import { sql } from "drizzle-orm";
import { projectVisible } from "../../lib/access.ts";
import { ApiError } from "../../lib/errors.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { managesProject } from "../annotation-jobs/job-scope.ts";
import { presentProjectProgress, projectProgressColumns } from "../annotation-jobs/job-progress.ts";
import type { ProjectStatsSchema } from "./stats.routes.ts";
import type { z } from "@hono/zod-openapi";
import { agentStats, annotatorStats, overdueStats, statsBase, verdictStats } from "./stats-sql.ts";

type ProjectStats = z.infer<typeof ProjectStatsSchema>;

type StatsRow = Omit<ProjectStats, "progress"> & {
  caller_manages: boolean;
  job_progress: unknown;
  verdicts: { rows_accepted: number | string; rows_rejected: number | string } | null;
};

export async function getProjectStats(ctx: AuthenticatedContext, projectId: number): Promise<ProjectStats> {
  const { principal } = ctx;
  const result = await ctx.db.execute(sql`with target as (
        select p.project_id, ${managesProject(principal, "p")} as caller_manages
        from project p where p.project_id = ${projectId}::integer and p.deleted_at is null and ${projectVisible(principal, "p")}
      ), ${statsBase()}
    select target.project_id, target.caller_manages, ${projectProgressColumns("target")}, ${verdictStats()} as verdicts,
      ${annotatorStats()} as annotators, ${agentStats()} as agents, ${overdueStats()} as overdue
    from target`);
  const row = result.rows[0] as StatsRow | undefined;
  if (!row) throw new ApiError("not_found", `Project ${projectId} does not exist.`);
  if (!row.caller_manages) throw new ApiError("forbidden", `Only the project's pm and platform admins read project ${projectId}'s statistics.`);
  return {
    project_id: row.project_id,
    annotators: row.annotators.map((annotator) => ({
      ...annotator,
      rejection_rate: nullableNumber(annotator.rejection_rate),
      agreement_with_final: nullableNumber(annotator.agreement_with_final),
      median_seconds_per_row: nullableNumber(annotator.median_seconds_per_row),
    })),
    agents: row.agents,
    overdue: row.overdue,
    progress: {
      ...presentProjectProgress(row.job_progress),
      rows_accepted: Number(row.verdicts?.rows_accepted ?? 0),
      rows_rejected: Number(row.verdicts?.rows_rejected ?? 0),
    },
  };
}

function nullableNumber(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}
