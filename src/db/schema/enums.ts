/**
 * Postgres enums. The first eight keep the predecessor's names and values exactly;
 * the rest are what the contract adds. Adding a value later is an `ALTER TYPE … ADD
 * VALUE` migration; removing one is not possible in place, so keep these lists tight.
 */
import { pgEnum } from "drizzle-orm/pg-core";

export const projectStatus = pgEnum("project_status", [
  "draft",
  "ready_for_annotation",
  "in_progress",
  "completed",
  "archived",
]);

export const fileStatus = pgEnum("file_status", [
  "pending",
  "ready_for_annotation",
  "in_progress",
  "completed",
  "archived",
]);

export const fileType = pgEnum("file_type", ["dataset", "requirement", "report", "llm_output"]);

export const annotationJobStatus = pgEnum("annotation_job_status", [
  "not_started",
  "in_progress",
  "submitted",
  "awaiting_qc",
  "reviewed",
]);

export const reviewStatus = pgEnum("review_status", ["pending", "approved", "rejected"]);

/** A reviewer's verdict on one row of a job (row_review). */
export const rowVerdict = pgEnum("row_verdict", ["accepted", "rejected"]);

/** Which look gave a row its verdict: the review of a submitted job, or QC of a job awaiting QC. */
export const reviewStage = pgEnum("review_stage", ["review", "qc"]);

export const language = pgEnum("language", ["en", "zh", "fr", "de", "es", "ar"]);

export const jobPriority = pgEnum("job_priority", ["low", "medium", "high"]);

export const assignmentRole = pgEnum("assignment_role", ["annotator", "reviewer", "qc"]);

/** One platform organization (the operator) and many client organizations. */
export const organizationKind = pgEnum("organization_kind", ["platform", "client"]);

/** Whether a file version's bytes have arrived: pending until `POST /uploads/{id}/complete` verifies them. */
export const fileVersionStatus = pgEnum("file_version_status", ["pending", "ready"]);

/** Parse job state of a ready file version (NULL while the upload is still pending). */
export const parseStatus = pgEnum("parse_status", ["queued", "running", "succeeded", "failed"]);

export const uploadStatus = pgEnum("upload_status", ["pending", "completed", "aborted"]);

export const exportStatus = pgEnum("export_status", ["queued", "running", "succeeded", "failed"]);

export const exportFormat = pgEnum("export_format", ["jsonl", "csv", "json"]);

export const exportScope = pgEnum("export_scope", ["approved", "all"]);

/** Who performed an audited action: a signed-in user, a user's API token, or the platform itself (queue consumers). */
export const actorKind = pgEnum("actor_kind", ["user", "api_token", "system"]);

// `withheld`: the change committed, and its answer carried a secret that is never kept.
export const idempotencyStatus = pgEnum("idempotency_status", ["in_progress", "completed", "withheld"]);
