import { z } from "@hono/zod-openapi";
import { problem } from "../../lib/openapi-responses.ts";
import { cursorSchema, limitSchema, pageSchema, sortSchema } from "../../lib/pagination.ts";
import { pathId, protectedRoute } from "../../lib/routes.ts";
import { EXPORT_FORMATS, EXPORT_SCOPES, EXPORT_STATUSES } from "./export-state.ts";
import { ExportSchema } from "./exports.presenters.ts";

const TAG = "Exports";

const idFilter = (what: string) =>
  z.array(z.number().int().positive()).min(1).max(1000).optional().openapi({ description: `Only rows of these ${what} (live ${what} of the project).` });

const FORMATS_DESCRIPTION = [
  "`jsonl`: one object per line; `json`: one array of the same objects; each object is",
  "`{job_id, table_id, file_id, version_id, row_index, data, annotation, status, annotator_id, annotated_at, reviewer_id, reviewed_at}`",
  "(`data`: the source row; `annotation`: the annotation's data or null; `annotator_id`: who saved it last; `reviewer_id`/`reviewed_at`:",
  "the approving review, when the job's latest verdict is an approval). `csv`: RFC 4180, UTF-8, CRLF, with a header:",
  "job_id, table_id, file_id, version_id, row_index, the source columns, `annotation.<key>` per top-level annotation key",
  "(nested values as JSON), `annotation` (the JSON of annotations that are not objects, only if there are any), status,",
  "annotator_id, annotated_at, reviewer_id, reviewed_at. A missing or null value is an empty field; an empty string is `\"\"`.",
  "Rows are in (job_id, row_index) order.",
].join(" ");

export const createExport = protectedRoute({
  method: "post",
  path: "/projects/{project_id}/exports",
  operationId: "createExport",
  tags: [TAG],
  summary: "Request an export of a project's annotation results",
  description: `Queues the export and answers at once (status \`queued\`); read it back until \`succeeded\` for its download URL. ${FORMATS_DESCRIPTION}`,
  request: {
    params: z.object({ project_id: pathId("project_id") }),
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.strictObject({
            format: z.enum(EXPORT_FORMATS),
            scope: z.enum(EXPORT_SCOPES).default("approved").openapi({
              description: "`approved`: rows of jobs that are reviewed with an approving verdict; `all`: rows of every live job "
                + "(platform roles only: from a client organization it is 403).",
            }),
            job_ids: idFilter("jobs"),
            file_ids: idFilter("files"),
          }),
        },
      },
    },
  },
  responses: {
    201: { description: "The export, queued.", content: { "application/json": { schema: ExportSchema } } },
    ...problem("forbidden", "The role may not request exports, or a client asked for `scope: all`: clients may export only approved results."),
    ...problem("service_unavailable", "The export could not be queued; it is recorded as failed. Try again."),
  },
});

export const listExports = protectedRoute({
  method: "get",
  path: "/projects/{project_id}/exports",
  operationId: "listExports",
  tags: [TAG],
  summary: "List a project's exports",
  request: {
    params: z.object({ project_id: pathId("project_id") }),
    query: z.object({
      limit: limitSchema,
      cursor: cursorSchema,
      sort: sortSchema(["created_at"], "-created_at"),
      status: z.enum(EXPORT_STATUSES).optional(),
    }),
  },
  responses: { 200: { description: "A page of exports.", content: { "application/json": { schema: pageSchema(ExportSchema) } } } },
});

export const getExport = protectedRoute({
  method: "get",
  path: "/exports/{export_id}",
  operationId: "getExport",
  tags: [TAG],
  summary: "Get an export: its status, progress and, once succeeded, a download URL",
  request: { params: z.object({ export_id: pathId("export_id") }) },
  responses: {
    200: {
      description: "The export.",
      headers: { ETag: { description: "The export's version.", schema: { type: "string" } } },
      content: { "application/json": { schema: ExportSchema } },
    },
  },
});
