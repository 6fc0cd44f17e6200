import { z } from "@hono/zod-openapi";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { presentProjectProgress, ProjectJobProgressSchema } from "../annotation-jobs/job-progress.ts";
import { describeTransitions, PROJECT_STATUSES, type ProjectStatus } from "./projects.status.ts";

/** A project row as selected by the service (`project.*`, raw timestamp text). */
export type ProjectRow = {
  project_id: number;
  org_id: number;
  name: string;
  description: string | null;
  requirements_text: string | null;
  status: ProjectStatus;
  is_active: boolean;
  annotations_per_row: number;
  qc_sample_rate: number;
  completed_at: string | null;
  client_pm_id: number | null;
  our_pm_id: number | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
};

export const ProjectStatusSchema = z.enum(PROJECT_STATUSES).openapi({ description: describeTransitions() });

/** What lists show: everything but the (possibly long) parsed requirements text. */
export const ProjectSchema = z
  .object({
    project_id: z.number().int(),
    org_id: z.number().int(),
    name: z.string(),
    description: z.string().nullable(),
    status: ProjectStatusSchema,
    is_active: z.boolean(),
    annotations_per_row: z.number().int().openapi({
      description: "How many annotators answer each row of the project's jobs (1–10, default 1); a job may override it. See README, several annotators per row.",
    }),
    qc_sample_rate: z.number().openapi({
      description: "The share of each job's rows QC checks (0–1, default 0). Above 0, a reviewer's approval sends a job to `awaiting_qc` " +
        "over a deterministic sample of its rows (GET /annotation-jobs/{job_id}/qc-sample); 0: approval makes it `reviewed`.",
    }),
    completed_at: z.string().nullable().openapi({ description: "When the project last moved to `completed`." }),
    client_pm_id: z.number().int().nullable().openapi({ description: "The client organization's contact for this project." }),
    our_pm_id: z.number().int().nullable().openapi({ description: "The platform project manager (pm or admin) running it." }),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.string().nullable(),
  })
  .openapi("Project");

/**
 * The single-project view (GET one, and the answers of POST, PATCH and restore). Fields
 * that only the single view carries are added here, each with its column in the service's
 * `projectDetailColumns` (the annotation work adds its progress rollup that way).
 */
export const ProjectDetailSchema = ProjectSchema.extend({
  requirements_text: z.string().nullable().openapi({ description: "Text extracted from the project's requirement files." }),
  job_progress: ProjectJobProgressSchema,
}).openapi("ProjectDetail");

export type ProjectView = z.infer<typeof ProjectSchema>;
export type ProjectDetailView = z.infer<typeof ProjectDetailSchema>;

export function presentProject(row: ProjectRow): ProjectView {
  return {
    project_id: row.project_id,
    org_id: row.org_id,
    name: row.name,
    description: row.description,
    status: row.status,
    is_active: row.is_active,
    annotations_per_row: row.annotations_per_row,
    qc_sample_rate: Number(row.qc_sample_rate),
    completed_at: isoTimestamp(row.completed_at),
    client_pm_id: row.client_pm_id,
    our_pm_id: row.our_pm_id,
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
    deleted_at: isoTimestamp(row.deleted_at),
  };
}

export type ProjectDetailRow = ProjectRow & { job_progress: unknown };

export function presentProjectDetail(row: ProjectDetailRow): ProjectDetailView {
  return { ...presentProject(row), requirements_text: row.requirements_text, job_progress: presentProjectProgress(row.job_progress) };
}
