/**
 * A project's rollup of its jobs' progress, as one column for whatever statement reads
 * the project (the projects feature adds it to its single view), so the rollup costs no
 * extra round trip.
 */
import { z } from "@hono/zod-openapi";
import { sql, type SQL } from "drizzle-orm";

export const ProjectJobProgressSchema = z
  .object({
    jobs: z
      .object({
        total: z.number().int(),
        not_started: z.number().int(),
        in_progress: z.number().int(),
        submitted: z.number().int(),
        awaiting_qc: z.number().int(),
        reviewed: z.number().int(),
      })
      .openapi({ description: "Live annotation jobs of the project, by status." }),
    annotated: z.number().int().openapi({ description: "Rows with an annotation, over all live jobs." }),
    total: z.number().int().openapi({ description: "Rows covered by live jobs." }),
  })
  .openapi("ProjectJobProgress", { description: "The project's annotation progress, computed when read." });

export type ProjectJobProgress = z.infer<typeof ProjectJobProgressSchema>;

/** `job_progress`: a json column over the live jobs of the project `projectAlias` names. */
export function projectProgressColumns(projectAlias: string): SQL {
  return sql`(select json_build_object(
      'jobs', json_build_object(
        'total', count(pj.job_id),
        'not_started', count(pj.job_id) filter (where pj.status = 'not_started'),
        'in_progress', count(pj.job_id) filter (where pj.status = 'in_progress'),
        'submitted', count(pj.job_id) filter (where pj.status = 'submitted'),
        'awaiting_qc', count(pj.job_id) filter (where pj.status = 'awaiting_qc'),
        'reviewed', count(pj.job_id) filter (where pj.status = 'reviewed')),
      'annotated', coalesce(sum(pj_annotated.count), 0),
      'total', coalesce(sum(pj.row_end - pj.row_start + 1), 0))
    from annotation_job pj
    cross join lateral (select count(distinct pja.row_index) as count from annotation pja where pja.job_id = pj.job_id) pj_annotated
    where pj.project_id = ${sql.raw(projectAlias)}.project_id and pj.deleted_at is null) as job_progress`;
}

/** The column as the driver returns it (json numbers may arrive as numbers or numeric strings). */
export function presentProjectProgress(value: unknown): ProjectJobProgress {
  const progress = value as { jobs: Record<string, number | string>; annotated: number | string; total: number | string };
  return {
    jobs: {
      total: Number(progress.jobs.total),
      not_started: Number(progress.jobs.not_started),
      in_progress: Number(progress.jobs.in_progress),
      submitted: Number(progress.jobs.submitted),
      awaiting_qc: Number(progress.jobs.awaiting_qc),
      reviewed: Number(progress.jobs.reviewed),
    },
    annotated: Number(progress.annotated),
    total: Number(progress.total),
  };
}
