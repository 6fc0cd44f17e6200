import { z } from "@hono/zod-openapi";
import { STORABLE_DATE_MESSAGE, storableDate } from "../../lib/input-bounds.ts";
import { problem } from "../../lib/openapi-responses.ts";
import { cursorSchema, limitSchema, pageSchema, sortSchema } from "../../lib/pagination.ts";
import { includeDeletedQuery } from "../../lib/query-params.ts";
import { jsonBody, pathId, protectedRoute } from "../../lib/routes.ts";
import { JOB_PRIORITIES, JobSchema, JobStatusSchema } from "./annotation-jobs.presenters.ts";
import { MAX_JOBS_PER_REQUEST } from "./annotation-jobs.service.ts";
import { describeJobStatusMachine } from "./job-status.ts";

export const TAG = "Annotation jobs";

export const jobParams = z.object({ job_id: pathId("job_id") });
const projectParams = z.object({ project_id: pathId("project_id") });

export const ifMatchHeader = z.object({
  "if-match": z.string().optional().openapi({
    description: "The ETag of the job as you last read it; the change is refused with 412 if it has changed since.",
  }),
});

export const jobEtagHeader = { ETag: { description: "The job's version, for If-Match.", schema: { type: "string" as const } } };

const calendarDate = z.iso.date().refine(storableDate, STORABLE_DATE_MESSAGE).openapi({ description: "A calendar date (YYYY-MM-DD).", example: "2026-12-31" });
const name = z.string().trim().min(1).max(200);
const priority = z.enum(JOB_PRIORITIES);
const estimatedHours = z.number().positive().max(999_999.99).openapi({ description: "Positive; two decimals are kept." });
const instructions = z.string().max(20_000);
const annotationsPerRow = z.number().int().min(1).max(10).openapi({
  description: "How many annotators answer each row (1–10); null (the default) follows the project's `annotations_per_row`.",
});
const rowIndex = z.number().int().min(0).max(2_147_483_647);

const listQuery = {
  limit: limitSchema,
  cursor: cursorSchema,
  sort: sortSchema(["created_at", "due_date", "priority", "name"], "created_at"),
  status: JobStatusSchema.optional().openapi({ description: "Only jobs in this status." }),
  priority: priority.optional().openapi({ description: "Only jobs of this priority." }),
  assignee_id: z.coerce.number().int().positive().optional().openapi({ description: "Only jobs this user holds an assignment on (any role)." }),
  due_before: calendarDate.optional().openapi({ description: "Only jobs due on or before this date (jobs without a due date are left out)." }),
  due_after: calendarDate.optional().openapi({ description: "Only jobs due on or after this date (jobs without a due date are left out)." }),
  include_deleted: includeDeletedQuery,
};

const LIST_DESCRIPTION =
  "Admins see every job, pms the jobs of the projects they run, clients their organization's, and annotators, reviewers and qc only the jobs they hold an assignment on. " +
  "Sorting by `priority` orders low < medium < high; by `due_date`, jobs without one come last. Every job carries its progress, computed when read.";

export const createAnnotationJobs = protectedRoute({
  method: "post",
  path: "/projects/{project_id}/annotation-jobs",
  operationId: "createAnnotationJobs",
  tags: [TAG],
  summary: "Cut one job, or several consecutive ones with split_size, from a parsed table's rows",
  description:
    "The table must be a current parse of a file of the project (`active`, of the file's current version). " +
    "Without `row_start`/`row_end` the job covers the whole table; both are 0-based row_index values, inclusive. " +
    `With \`split_size\` the range is cut into consecutive jobs of that many rows (the last may be shorter), named \`<name> (i/n)\`; at most ${MAX_JOBS_PER_REQUEST} per request. ` +
    "The answer is always `{data: [jobs]}`, one element or several, in row order, so one shape serves both. " +
    "Only the project's pm or a platform admin may create jobs; an archived project takes none (409).",
  request: {
    params: projectParams,
    body: jsonBody(z
      .strictObject({
        name,
        table_id: z.number().int().positive(),
        row_start: rowIndex.optional(),
        row_end: rowIndex.optional(),
        split_size: z.number().int().min(1).max(1_000_000).optional(),
        priority,
        due_date: calendarDate
          .nullable()
          .optional()
          .refine((value) => !value || value >= new Date().toISOString().slice(0, 10), "must not be in the past"),
        estimated_hours: estimatedHours.nullable().optional(),
        instructions: instructions.nullable().optional(),
        annotations_per_row: annotationsPerRow.nullable().optional(),
      })
      .refine((body) => body.row_start === undefined || body.row_end === undefined || body.row_start <= body.row_end, {
        message: "must not be greater than row_end",
        path: ["row_start"],
      })),
  },
  responses: {
    201: {
      description: "The jobs created, in row order.",
      content: { "application/json": { schema: z.object({ data: z.array(JobSchema) }).openapi("CreatedAnnotationJobs") } },
    },
    ...problem("conflict", "The project is archived, the table was superseded, or the Idempotency-Key is in use."),
  },
});

export const listProjectAnnotationJobs = protectedRoute({
  method: "get",
  path: "/projects/{project_id}/annotation-jobs",
  operationId: "listProjectAnnotationJobs",
  tags: [TAG],
  summary: "List a project's annotation jobs",
  description: LIST_DESCRIPTION,
  request: { params: projectParams, query: z.object(listQuery) },
  responses: { 200: { description: "A page of jobs.", content: { "application/json": { schema: pageSchema(JobSchema) } } } },
});

export const listAnnotationJobs = protectedRoute({
  method: "get",
  path: "/annotation-jobs",
  operationId: "listAnnotationJobs",
  tags: [TAG],
  summary: "List the annotation jobs the caller can see, across projects (an annotator's \"my jobs\")",
  description: LIST_DESCRIPTION,
  request: {
    query: z.object({ ...listQuery, project_id: z.coerce.number().int().positive().optional().openapi({ description: "Only this project's jobs." }) }),
  },
  responses: { 200: { description: "A page of jobs.", content: { "application/json": { schema: pageSchema(JobSchema) } } } },
});

export const getAnnotationJob = protectedRoute({
  method: "get",
  path: "/annotation-jobs/{job_id}",
  operationId: "getAnnotationJob",
  tags: [TAG],
  summary: "Get an annotation job with its progress",
  request: { params: jobParams, query: z.object({ include_deleted: includeDeletedQuery }) },
  responses: { 200: { description: "The job.", headers: jobEtagHeader, content: { "application/json": { schema: JobSchema } } } },
});

export const updateAnnotationJob = protectedRoute({
  method: "patch",
  path: "/annotation-jobs/{job_id}",
  operationId: "updateAnnotationJob",
  tags: [TAG],
  summary: "Update a job's fields, or start or submit it",
  description:
    "Send only the fields to change. `name`, `priority`, `due_date`, `estimated_hours` and `instructions` are the project's pm's (or an admin's) to change. " +
    "`status` requests a move of the status machine; PATCH makes `start` and `submit`, reviews make the others:\n\n" +
    describeJobStatusMachine(),
  request: {
    params: jobParams,
    headers: ifMatchHeader,
    body: jsonBody(z
      .strictObject({
        name: name.optional(),
        priority: priority.optional(),
        due_date: calendarDate.nullable().optional(),
        estimated_hours: estimatedHours.nullable().optional(),
        instructions: instructions.nullable().optional(),
        annotations_per_row: annotationsPerRow.nullable().optional(),
        status: JobStatusSchema.optional(),
      })
      .refine((body) => Object.values(body).some((value) => value !== undefined), "name at least one field to change")),
  },
  responses: {
    200: { description: "The job as it now is.", headers: jobEtagHeader, content: { "application/json": { schema: JobSchema } } },
    ...problem("conflict", "The status move is not allowed from the job's status (the detail names the legal moves), or submit found rows without an annotation."),
    ...problem("precondition_failed", "If-Match is stale."),
  },
});

export const deleteAnnotationJob = protectedRoute({
  method: "delete",
  path: "/annotation-jobs/{job_id}",
  operationId: "deleteAnnotationJob",
  tags: [TAG],
  summary: "Delete a job (soft; restore undoes it)",
  description: "The job disappears from every read (and its assignees lose sight of it) until restored; its annotations are kept.",
  request: { params: jobParams, headers: ifMatchHeader },
  responses: { 204: { description: "Deleted." }, ...problem("precondition_failed", "If-Match is stale.") },
});

export const restoreAnnotationJob = protectedRoute({
  method: "post",
  path: "/annotation-jobs/{job_id}/restore",
  operationId: "restoreAnnotationJob",
  tags: [TAG],
  summary: "Restore a deleted job",
  request: { params: jobParams },
  responses: {
    200: { description: "The restored job.", headers: jobEtagHeader, content: { "application/json": { schema: JobSchema } } },
    ...problem("conflict", "The job is not deleted, or the Idempotency-Key is in use."),
  },
});
