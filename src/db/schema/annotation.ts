/**
 * Annotation work: jobs over a row range of a parsed table, who is assigned to them,
 * the current result per row with its full history, reviews and threaded comments.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  date,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  unique,
} from "drizzle-orm/pg-core";
import { bigIdentityKey, createdAt, deletedAt, identityKey, timestamptz, updatedAt } from "./columns.ts";
import { annotationJobStatus, assignmentRole, jobPriority, reviewStage, reviewStatus, rowVerdict } from "./enums.ts";
import { fileTable } from "./files.ts";
import { user } from "./identity.ts";
import { project } from "./projects.ts";

/** A job covers rows row_start..row_end (inclusive, 0-based row_index) of one file_table. */
export const annotationJob = pgTable(
  "annotation_job",
  {
    job_id: identityKey(),
    project_id: integer()
      .notNull()
      .references(() => project.project_id, { onDelete: "cascade" }),
    // NO ACTION (restrict, checked at the end of the statement): a table with jobs on it
    // cannot be deleted on its own, yet purging the whole project, which cascades to both
    // the jobs and (through file → file_version) the table, still succeeds: RESTRICT is
    // checked the moment the table row goes, so that purge would depend on cascade order.
    table_id: integer()
      .notNull()
      .references(() => fileTable.table_id, { onDelete: "no action" }),
    name: text().notNull(),
    status: annotationJobStatus().notNull().default("not_started"),
    priority: jobPriority().notNull().default("medium"),
    due_date: date({ mode: "string" }),
    estimated_hours: numeric({ precision: 8, scale: 2, mode: "number" }),
    row_start: integer().notNull(),
    row_end: integer().notNull(),
    instructions: text(),
    // How many annotators answer each row; null: the project's annotations_per_row.
    annotations_per_row: integer(),
    // The project's qc_sample_rate, frozen when a reviewer's approval sends the job to QC
    // (its QC sample is drawn from it); null when the job has not been to QC since its last rejection.
    qc_sample_rate: doublePrecision(),
    created_by: integer().references(() => user.user_id, { onDelete: "set null" }),
    created_at: createdAt(),
    updated_at: updatedAt(),
    deleted_at: deletedAt(),
    submitted_at: timestamptz(),
    reviewed_at: timestamptz(),
  },
  (t) => [
    index("annotation_job_project_id_status_idx").on(t.project_id, t.status),
    index("annotation_job_project_id_priority_idx").on(t.project_id, t.priority),
    index("annotation_job_due_date_idx").on(t.due_date),
    index("annotation_job_table_id_idx").on(t.table_id),
    index("annotation_job_created_by_idx").on(t.created_by),
    index("annotation_job_created_at_idx").on(t.created_at),
    // GET /search (features/search/search.service.ts SEARCH_VECTORS repeats the expression).
    index("annotation_job_search_idx").using("gin", sql`to_tsvector('english'::regconfig, ${t.name} || ' ' || coalesce(${t.instructions}, ''))`),
    check("annotation_job_name_not_blank", sql`length(btrim(${t.name})) > 0`),
    check("annotation_job_estimated_hours_positive", sql`${t.estimated_hours} IS NULL OR ${t.estimated_hours} > 0`),
    check("annotation_job_row_start_non_negative", sql`${t.row_start} >= 0`),
    check("annotation_job_row_range_ordered", sql`${t.row_start} <= ${t.row_end}`),
    check("annotation_job_qc_sample_rate_range", sql`${t.qc_sample_rate} IS NULL OR (${t.qc_sample_rate} > 0 AND ${t.qc_sample_rate} <= 1)`),
    check("annotation_job_annotations_per_row_range", sql`${t.annotations_per_row} IS NULL OR ${t.annotations_per_row} BETWEEN 1 AND 10`),
    // Compared with the UTC calendar day of creation.
    check(
      "annotation_job_due_not_before_creation",
      sql`${t.due_date} IS NULL OR ${t.due_date} >= (${t.created_at} AT TIME ZONE 'UTC')::date`,
    ),
    check("annotation_job_submitted_after_creation", sql`${t.submitted_at} IS NULL OR ${t.submitted_at} >= ${t.created_at}`),
    check("annotation_job_reviewed_after_creation", sql`${t.reviewed_at} IS NULL OR ${t.reviewed_at} >= ${t.created_at}`),
  ],
);

export const assignment = pgTable(
  "assignment",
  {
    assignment_id: identityKey(),
    job_id: integer()
      .notNull()
      .references(() => annotationJob.job_id, { onDelete: "cascade" }),
    // CASCADE: an assignment is meaningless without its holder; event_log keeps the history.
    user_id: integer()
      .notNull()
      .references(() => user.user_id, { onDelete: "cascade" }),
    role: assignmentRole().notNull(),
    assigned_by: integer().references(() => user.user_id, { onDelete: "set null" }),
    created_at: createdAt(),
  },
  (t) => [
    unique("assignment_job_id_user_id_role_key").on(t.job_id, t.user_id, t.role),
    // "My jobs" and the `assignee_id` filter.
    index("assignment_user_id_job_id_idx").on(t.user_id, t.job_id),
    index("assignment_assigned_by_idx").on(t.assigned_by),
  ],
);

/**
 * One annotator's current response for one row of a job (several annotators per row:
 * one row each). `version` increments on every save and feeds the ETag.
 *
 * `annotator_id` is not a foreign key: a response outlives its author's account, and
 * rows migrated from before several annotators per row (0010) belong to their last
 * editor, or to 0 ("author unknown") when that account had already been removed.
 */
export const annotation = pgTable(
  "annotation",
  {
    job_id: integer()
      .notNull()
      .references(() => annotationJob.job_id, { onDelete: "cascade" }),
    row_index: integer().notNull(),
    annotator_id: integer().notNull(),
    data: jsonb().$type<unknown>().notNull(),
    version: integer().notNull().default(1),
    // This response's consensus on its own (annotation_consensus over it alone): what its
    // annotator, who sees no other response, is shown as the row's `final` and `agreed`.
    // Written with `data` by every save and recomputed by a label schema change.
    own_final: jsonb().$type<unknown>().notNull(),
    own_agreed: boolean().notNull(),
    updated_by: integer().references(() => user.user_id, { onDelete: "set null" }),
    created_at: createdAt(),
    updated_at: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.job_id, t.row_index, t.annotator_id] }),
    // "My responses" of a job (submission completeness).
    index("annotation_job_id_annotator_id_idx").on(t.job_id, t.annotator_id),
    index("annotation_updated_by_idx").on(t.updated_by),
    check("annotation_row_index_non_negative", sql`${t.row_index} >= 0`),
    check("annotation_version_positive", sql`${t.version} >= 1`),
  ],
);

/** Every save of a response, numbered like annotation.version (written in the same statement). */
export const annotationRevision = pgTable(
  "annotation_revision",
  {
    revision_id: bigIdentityKey(),
    job_id: integer().notNull(),
    row_index: integer().notNull(),
    annotator_id: integer().notNull(),
    version: integer().notNull(),
    data: jsonb().$type<unknown>().notNull(),
    // How long the annotator worked on the row before this save, as their client measured it
    // (optional on PUT …/annotation); the statistics' seconds per row add a row's saves up.
    lead_time_ms: integer(),
    created_by: integer().references(() => user.user_id, { onDelete: "set null" }),
    created_at: createdAt(),
  },
  (t) => [
    foreignKey({
      name: "annotation_revision_annotation_fk",
      columns: [t.job_id, t.row_index, t.annotator_id],
      foreignColumns: [annotation.job_id, annotation.row_index, annotation.annotator_id],
    }).onDelete("cascade"),
    unique("annotation_revision_job_id_row_index_annotator_id_version_key").on(t.job_id, t.row_index, t.annotator_id, t.version),
    index("annotation_revision_created_by_idx").on(t.created_by),
    check("annotation_revision_version_positive", sql`${t.version} >= 1`),
    check("annotation_revision_lead_time_ms_range", sql`${t.lead_time_ms} IS NULL OR ${t.lead_time_ms} BETWEEN 0 AND 86400000`),
  ],
);

/** An annotator who submitted their responses of a job (cleared when a review rejects it). */
export const jobSubmission = pgTable(
  "job_submission",
  {
    job_id: integer()
      .notNull()
      .references(() => annotationJob.job_id, { onDelete: "cascade" }),
    annotator_id: integer()
      .notNull()
      .references(() => user.user_id, { onDelete: "cascade" }),
    submitted_at: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.job_id, t.annotator_id] }), index("job_submission_annotator_id_idx").on(t.annotator_id)],
);

/** A reviewer's final value for a row, overriding the responses' consensus question by question. */
export const rowFinal = pgTable(
  "row_final",
  {
    job_id: integer()
      .notNull()
      .references(() => annotationJob.job_id, { onDelete: "cascade" }),
    row_index: integer().notNull(),
    data: jsonb().$type<unknown>().notNull(),
    version: integer().notNull().default(1),
    // SET NULL: the decision stands after the reviewer's account is gone.
    set_by: integer().references(() => user.user_id, { onDelete: "set null" }),
    created_at: createdAt(),
    updated_at: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.job_id, t.row_index] }),
    index("row_final_set_by_idx").on(t.set_by),
    check("row_final_row_index_non_negative", sql`${t.row_index} >= 0`),
    check("row_final_version_positive", sql`${t.version} >= 1`),
  ],
);

/**
 * A reviewer's verdict on one row of a job (PUT …/items/{row_index}/review). Rejecting
 * the job sends back only its rejected rows: they get `returned_after_revision`, the
 * newest annotation_revision of the job at that moment, and each annotator resubmits
 * once they have saved every returned row again (a revision with a higher id: saves of
 * a job take turns on its row lock, so later saves always draw later ids). A new verdict
 * clears the mark. `rejections` counts how often the row was rejected (the statistics'
 * rows rejected), surviving later verdicts.
 */
export const rowReview = pgTable(
  "row_review",
  {
    job_id: integer()
      .notNull()
      .references(() => annotationJob.job_id, { onDelete: "cascade" }),
    row_index: integer().notNull(),
    verdict: rowVerdict().notNull(),
    stage: reviewStage().notNull().default("review"),
    reason: text(),
    // SET NULL: the verdict stands after the reviewer's account is gone.
    reviewer_id: integer().references(() => user.user_id, { onDelete: "set null" }),
    rejections: integer().notNull().default(0),
    returned_after_revision: bigint({ mode: "number" }),
    created_at: createdAt(),
    updated_at: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.job_id, t.row_index] }),
    index("row_review_reviewer_id_idx").on(t.reviewer_id),
    check("row_review_row_index_non_negative", sql`${t.row_index} >= 0`),
    check("row_review_rejections_non_negative", sql`${t.rejections} >= 0`),
  ],
);

/**
 * A row's consensus over every response, kept current by the statements that change
 * it (features/responses/consensus.ts): a save, a reviewer's PUT …/final, a label
 * schema change. One row per job row with at least one response or a decision; a
 * missing row reads as no responses (`responses_count` 0, `final` null, `agreed` false).
 * `final` already carries the reviewer's decision (row_final), `agreed` does not.
 */
export const rowConsensus = pgTable(
  "row_consensus",
  {
    job_id: integer()
      .notNull()
      .references(() => annotationJob.job_id, { onDelete: "cascade" }),
    row_index: integer().notNull(),
    responses_count: integer().notNull(),
    final: jsonb().$type<unknown>(),
    agreed: boolean().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.job_id, t.row_index] }),
    check("row_consensus_row_index_non_negative", sql`${t.row_index} >= 0`),
    check("row_consensus_responses_count_non_negative", sql`${t.responses_count} >= 0`),
  ],
);

export const review = pgTable(
  "review",
  {
    review_id: identityKey(),
    job_id: integer()
      .notNull()
      .references(() => annotationJob.job_id, { onDelete: "cascade" }),
    // SET NULL: the verdict stands after the reviewer's account is gone.
    reviewer_id: integer().references(() => user.user_id, { onDelete: "set null" }),
    status: reviewStatus().notNull().default("pending"),
    comments: text(),
    created_at: createdAt(),
  },
  (t) => [
    index("review_job_id_created_at_idx").on(t.job_id, t.created_at),
    index("review_reviewer_id_idx").on(t.reviewer_id),
  ],
);

export const comment = pgTable(
  "comment",
  {
    comment_id: identityKey(),
    job_id: integer()
      .notNull()
      .references(() => annotationJob.job_id, { onDelete: "cascade" }),
    parent_comment_id: integer(),
    author_id: integer().references(() => user.user_id, { onDelete: "set null" }),
    body: text().notNull(),
    created_at: createdAt(),
    updated_at: updatedAt(),
    deleted_at: deletedAt(),
  },
  (t) => [
    // Target of the thread FK below.
    unique("comment_comment_id_job_id_key").on(t.comment_id, t.job_id),
    // A reply must belong to its parent's job (the composite key enforces it); deleting
    // a comment deletes its replies.
    foreignKey({
      name: "comment_parent_fk",
      columns: [t.parent_comment_id, t.job_id],
      foreignColumns: [t.comment_id, t.job_id],
    }).onDelete("cascade"),
    index("comment_job_id_parent_comment_id_idx").on(t.job_id, t.parent_comment_id),
    index("comment_author_id_idx").on(t.author_id),
    // GET /search (features/search/search.service.ts SEARCH_VECTORS repeats the expression).
    index("comment_search_idx").using("gin", sql`to_tsvector('english'::regconfig, ${t.body})`),
    check("comment_body_not_blank", sql`length(btrim(${t.body})) > 0`),
  ],
);

/**
 * A project's label schema: the questions its annotations answer. One row per project
 * that has one (no row: annotations are free JSON). `questions` is the list as the API
 * validated it (features/label-schema/questions.ts); `schema_version` counts changes.
 */
export const labelSchema = pgTable(
  "label_schema",
  {
    project_id: integer()
      .primaryKey()
      .references(() => project.project_id, { onDelete: "cascade" }),
    schema_version: integer().notNull().default(1),
    questions: jsonb().$type<unknown[]>().notNull(),
    // SET NULL: the schema outlives the account that last changed it.
    updated_by: integer().references(() => user.user_id, { onDelete: "set null" }),
    created_at: createdAt(),
    updated_at: updatedAt(),
  },
  (t) => [
    index("label_schema_updated_by_idx").on(t.updated_by),
    check("label_schema_version_positive", sql`${t.schema_version} >= 1`),
    check("label_schema_questions_array", sql`jsonb_typeof(${t.questions}) = 'array'`),
  ],
);
