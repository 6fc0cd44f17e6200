import { z } from "@hono/zod-openapi";
import { SuggestionSchema } from "../suggestions/suggestions.routes.ts";
import { ItemReviewSchema } from "../row-reviews/row-reviews.routes.ts";
import { itemListQuery } from "../responses/item-filters.ts";
import { problem } from "../../lib/openapi-responses.ts";
import { cursorSchema, limitSchema, pageSchema } from "../../lib/pagination.ts";
import { protectedRoute } from "../../lib/routes.ts";
import { jobParams } from "../annotation-jobs/annotation-jobs.routes.ts";

const TAG = "Annotations";

/** A day: no single stretch of work on one row is longer; a larger value is a client's clock error. */
const MAX_LEAD_TIME_MS = 86_400_000;

const itemParams = jobParams.extend({
  row_index: z.coerce.number().int().min(0).max(2_147_483_647).openapi({ param: { name: "row_index", in: "path" } }),
});

const annotationData = z
  .record(z.string(), z.unknown())
  .openapi({ description: "The annotation: a JSON object, its keys as the project's labelling scheme defines.", example: { label: "positive" } });

const READ_RULE =
  "Staff read the items of the jobs they are assigned to, pms those of their projects; a client organization reads the results of its jobs once they are reviewed (approved), and gets 403 before.";

const SHOWN_RESPONSE =
  "The response shown for the row: your own when you have one; else, if you read every response (reviewers, qc, the pm, admins, " +
  "the client once reviewed), the most recently saved one. null when there is none.";

export const FINAL_RULE =
  "Per question, the responses' consensus (`label`: strict majority; `multi_label`: majority per option; `rating`: median, the lower " +
  "of the middle two for an even count; `number`, `text`, `span`, `ranking` and schema-less keys: unanimity), or null when unresolved; " +
  "a reviewer's `PUT …/final` values replace it question by question. null when the row has no responses. An annotator sees only " +
  "their own response here, so their `final` and `agreed` describe that response alone.";

export const AnnotationSchema = z
  .object({
    job_id: z.number().int(),
    row_index: z.number().int(),
    annotator_id: z.number().int().openapi({ description: "Whose response this is (several annotators per row: one response each)." }),
    data: annotationData,
    version: z.number().int().openapi({ description: "Increments on every save; the ETag carries it." }),
    updated_by: z.number().int().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Annotation");

export const ItemSchema = z
  .object({
    row_index: z.number().int(),
    data: z.record(z.string(), z.unknown()).openapi({ description: "The parsed row, keyed by column name." }),
    annotation: z
      .object({ data: annotationData, annotator_id: z.number().int(), version: z.number().int(), updated_by: z.number().int().nullable(), updated_at: z.string() })
      .nullable()
      .openapi({ description: SHOWN_RESPONSE }),
    responses_count: z.number().int().openapi({ description: "How many responses the row has that you may read (an annotator: their own, 0 or 1)." }),
    final: z.record(z.string(), z.unknown()).nullable().openapi({ description: FINAL_RULE }),
    agreed: z.boolean().openapi({ description: "The responses agree on every answered question (consensus rules: README)." }),
    suggestions: z.array(SuggestionSchema).openapi({ description: "Agents' suggested answers for the row (POST /file-tables/{table_id}/suggestions), by question and agent." }),
    review: ItemReviewSchema.nullable(),
  })
  .openapi("JobItem");

export const RevisionSchema = z
  .object({
    revision_id: z.number().int(),
    version: z.number().int(),
    data: annotationData,
    created_by: z.number().int().nullable(),
    created_at: z.string(),
  })
  .openapi("AnnotationRevision");

const annotationEtag = { ETag: { description: "The annotation's version, for If-Match.", schema: { type: "string" as const } } };

export const listJobItems = protectedRoute({
  method: "get",
  path: "/annotation-jobs/{job_id}/items",
  operationId: "listJobItems",
  tags: [TAG],
  summary: "The job's rows with their current annotation, by row_index",
  description: READ_RULE,
  request: {
    params: jobParams,
    query: itemListQuery,
  },
  responses: { 200: { description: "A page of items.", content: { "application/json": { schema: pageSchema(ItemSchema) } } } },
});

export const getAnnotation = protectedRoute({
  method: "get",
  path: "/annotation-jobs/{job_id}/items/{row_index}/annotation",
  operationId: "getAnnotation",
  tags: [TAG],
  summary: "A row's current annotation (your own response)",
  description: `${READ_RULE} ${SHOWN_RESPONSE} 404 when the row is outside the job's range or has no annotation yet.`,
  request: { params: itemParams },
  responses: { 200: { description: "The annotation.", headers: annotationEtag, content: { "application/json": { schema: AnnotationSchema } } } },
});

export const saveAnnotation = protectedRoute({
  method: "put",
  path: "/annotation-jobs/{job_id}/items/{row_index}/annotation",
  operationId: "saveAnnotation",
  tags: [TAG],
  summary: "Save your response for a row (every save is kept as a revision)",
  description:
    "Saves the caller's own response: with several annotators per row each has one, and none sees another's. " +
    "By the job's assigned annotator (or a platform admin) while the job is `not_started` or `in_progress` and the caller has not " +
    "submitted their work (409 after); the first save starts the job " +
    "(and its project, if not yet started). Send `If-Match` with the ETag you read to refuse a lost update (412 if someone saved since; " +
    "an If-Match on a row without an annotation is 412 too). Without `If-Match` the save applies whatever the current version " +
    "(last write wins), which is what a single annotator working through rows wants. 201 for the row's first annotation, 200 after.",
  request: {
    params: itemParams,
    headers: z.object({ "if-match": z.string().optional().openapi({ description: "The annotation's ETag as last read." }) }),
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.strictObject({
            data: annotationData,
            lead_time_ms: z.number().int().min(0).max(MAX_LEAD_TIME_MS).optional().openapi({
              description: "How long you worked on the row before this save, in milliseconds (0 to 86,400,000: a day). Optional; kept with " +
                "the save's revision, and a row's saves add up in the project's statistics (median seconds per row).",
            }),
          }),
        },
      },
    },
  },
  responses: {
    200: { description: "Saved; the row had an annotation.", headers: annotationEtag, content: { "application/json": { schema: AnnotationSchema } } },
    201: { description: "Saved; the row's first annotation.", headers: annotationEtag, content: { "application/json": { schema: AnnotationSchema } } },
    ...problem("conflict", "The job is submitted (awaiting review) or reviewed (final): its annotations cannot change."),
    ...problem("precondition_failed", "If-Match is stale: the annotation was saved since you read it."),
  },
});

export const listAnnotationHistory = protectedRoute({
  method: "get",
  path: "/annotation-jobs/{job_id}/items/{row_index}/annotation/history",
  operationId: "listAnnotationHistory",
  tags: [TAG],
  summary: "Every saved revision of a row's annotation (the response GET …/annotation shows), oldest first",
  description: READ_RULE,
  request: { params: itemParams, query: z.object({ limit: limitSchema, cursor: cursorSchema }) },
  responses: { 200: { description: "A page of revisions.", content: { "application/json": { schema: pageSchema(RevisionSchema) } } } },
});
