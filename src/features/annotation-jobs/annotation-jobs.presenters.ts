import { z } from "@hono/zod-openapi";
import { sql, type SQL } from "drizzle-orm";
import { jobPriority } from "../../db/schema/enums.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { can, type Principal } from "../auth/principal.ts";
import { describeJobStatusMachine, JOB_STATUSES, type JobStatus } from "./job-status.ts";

export const JOB_PRIORITIES = jobPriority.enumValues;

export const JobStatusSchema = z.enum(JOB_STATUSES).openapi({ description: describeJobStatusMachine() });

export const ProgressSchema = z
  .object({
    annotated: z.number().int().openapi({ description: "Rows of the range that have an annotation." }),
    total: z.number().int().openapi({ description: "Rows in the range (row_end − row_start + 1)." }),
  })
  .openapi("JobProgress");

const LatestReviewSchema = z
  .object({
    review_id: z.number().int(),
    status: z.enum(["approved", "rejected"]),
    comments: z.string().nullable(),
    reviewer_id: z.number().int().nullable(),
    created_at: z.string(),
  })
  .nullable()
  .openapi({
    description: "The job's most recent review: after a rejection, what to fix. Null when there is none or the caller may not read reviews.",
  });

export const JobSchema = z
  .object({
    job_id: z.number().int(),
    project_id: z.number().int(),
    table_id: z.number().int(),
    name: z.string(),
    status: JobStatusSchema,
    priority: z.enum(JOB_PRIORITIES),
    due_date: z.string().nullable().openapi({ description: "A calendar date (YYYY-MM-DD)." }),
    estimated_hours: z.number().nullable(),
    row_start: z.number().int().openapi({ description: "First row_index of the job's range (0-based, inclusive)." }),
    row_end: z.number().int().openapi({ description: "Last row_index of the job's range (inclusive)." }),
    instructions: z.string().nullable(),
    created_by: z.number().int().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.string().nullable(),
    submitted_at: z.string().nullable().openapi({ description: "When the job was last submitted; cleared by a rejection." }),
    reviewed_at: z.string().nullable().openapi({ description: "When the job was approved." }),
    annotations_per_row: z.number().int().openapi({
      description: "How many annotators answer each row: the job's own setting, else its project's. The job becomes `submitted` once this many annotators have submitted.",
    }),
    annotations_per_row_override: z.number().int().nullable().openapi({ description: "The job's own setting; null follows the project's." }),
    submitted_annotators: z.array(z.number().int()).openapi({ description: "The annotators who have submitted their responses (cleared by a rejection)." }),
    progress: ProgressSchema,
    latest_review: LatestReviewSchema,
  })
  .openapi("AnnotationJob");

export type JobView = z.infer<typeof JobSchema>;

export type JobRow = {
  job_id: number;
  project_id: number;
  table_id: number;
  name: string;
  status: JobStatus;
  priority: (typeof JOB_PRIORITIES)[number];
  due_date: string | null;
  estimated_hours: number | string | null;
  row_start: number;
  row_end: number;
  instructions: string | null;
  created_by: number | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  submitted_at: string | null;
  reviewed_at: string | null;
  annotated: number;
  annotations_per_row: number;
  annotations_per_row_override: number | null;
  submitted_annotators: number[] | null;
  latest_review: { review_id: number; status: "approved" | "rejected"; comments: string | null; reviewer_id: number | null; created_at: string } | null;
};

/**
 * A job's columns for the SELECT list, `alias` being annotation_job or a CTE returning
 * its columns; progress and the latest review are computed in the same query. `version`
 * is updated_at's exact text (the ETag).
 */
export function jobColumns(principal: Principal, alias: string): SQL {
  const j = sql.raw(alias);
  const latestReview = can(principal, "review:read")
    ? sql`(select json_build_object('review_id', r.review_id, 'status', r.status, 'comments', r.comments,
          'reviewer_id', r.reviewer_id, 'created_at', r.created_at)
        from review r where r.job_id = ${j}.job_id order by r.review_id desc limit 1)`
    : sql`null::json`;
  return sql`${j}.job_id, ${j}.project_id, ${j}.table_id, ${j}.name, ${j}.status, ${j}.priority, ${j}.due_date::text as due_date,
    ${j}.estimated_hours::float8 as estimated_hours, ${j}.row_start, ${j}.row_end, ${j}.instructions, ${j}.created_by,
    ${j}.created_at::text as created_at, ${j}.updated_at::text as updated_at, ${j}.deleted_at::text as deleted_at,
    ${j}.submitted_at::text as submitted_at, ${j}.reviewed_at::text as reviewed_at,
    (select count(distinct pa.row_index)::int from annotation pa where pa.job_id = ${j}.job_id) as annotated,
    coalesce(${j}.annotations_per_row, (select pp.annotations_per_row from project pp where pp.project_id = ${j}.project_id)) as annotations_per_row,
    ${j}.annotations_per_row as annotations_per_row_override,
    (select json_agg(js.annotator_id order by js.annotator_id) from job_submission js where js.job_id = ${j}.job_id) as submitted_annotators,
    ${latestReview} as latest_review`;
}

export function presentJob(row: JobRow): JobView {
  return {
    job_id: row.job_id,
    project_id: row.project_id,
    table_id: row.table_id,
    name: row.name,
    status: row.status,
    priority: row.priority,
    due_date: row.due_date,
    estimated_hours: row.estimated_hours === null ? null : Number(row.estimated_hours),
    row_start: row.row_start,
    row_end: row.row_end,
    instructions: row.instructions,
    created_by: row.created_by,
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
    deleted_at: isoTimestamp(row.deleted_at),
    submitted_at: isoTimestamp(row.submitted_at),
    reviewed_at: isoTimestamp(row.reviewed_at),
    annotations_per_row: row.annotations_per_row,
    annotations_per_row_override: row.annotations_per_row_override,
    submitted_annotators: row.submitted_annotators ?? [],
    progress: { annotated: Number(row.annotated), total: row.row_end - row.row_start + 1 },
    latest_review: row.latest_review ? { ...row.latest_review, created_at: isoTimestamp(row.latest_review.created_at) } : null,
  };
}
