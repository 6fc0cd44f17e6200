import { z } from "@hono/zod-openapi";
import { problem } from "../../lib/openapi-responses.ts";
import { jsonBody, pathId, protectedRoute } from "../../lib/routes.ts";

const TAG = "Suggestions";

const rowIndex = z.number().int().min(0).max(2_147_483_647);

const CreateDraftBody = z
  .strictObject({
    questions: z.array(z.string().min(1).max(64)).min(1).max(50)
      .refine((names) => new Set(names).size === names.length, "must not repeat a question")
      .openapi({ description: "The label-schema questions the model answers." }),
    row_start: rowIndex.optional().openapi({ description: "First row (default 0)." }),
    row_end: rowIndex.optional().openapi({ description: "Last row, inclusive (default the table's last); the run stops at DRAFT_MAX_ROWS rows." }),
    instructions: z.string().max(10_000).optional().openapi({ description: "Added to the prompt." }),
  })
  .refine((body) => body.row_end === undefined || body.row_start === undefined || body.row_start <= body.row_end, { path: ["row_end"], message: "must be at least row_start" });

export const DraftSchema = z
  .object({
    draft_id: z.number().int(),
    table_id: z.number().int(),
    status: z.enum(["queued", "running", "succeeded", "failed"]),
    progress: z.object({ done: z.number().int(), total: z.number().int() }).openapi({ description: "Rows done of the rows the run covers." }),
    questions: z.array(z.string()),
    instructions: z.string().nullable(),
    model: z.string().openapi({ description: "The model asked; the suggestions' `agent`." }),
    row_start: z.number().int(),
    row_end: z.number().int(),
    invalid: z
      .array(z.object({ row_index: z.number().int(), question: z.string().nullable(), message: z.string() }))
      .openapi({ description: "The first 1,000 answers the model gave that do not answer the schema (question null: the whole row)." }),
    invalid_count: z.number().int(),
    error: z.string().nullable().openapi({ description: "Why a failed run failed." }),
    created_by: z.number().int().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("DraftRun");

export const createDraft = protectedRoute({
  method: "post",
  path: "/file-tables/{table_id}/drafts",
  operationId: "createDraft",
  tags: [TAG],
  summary: "Have a model draft suggestions for the table's rows",
  description:
    "Starts a drafting run (202): the `draft` queue's consumer asks an OpenAI-compatible chat-completions API (LLM_BASE_URL, LLM_MODEL) to " +
    "answer `questions` for rows `row_start`..`row_end`, in batches, with the label schema as a JSON-schema response format. Valid answers " +
    "become suggestions with `agent` = the model; invalid ones are listed on the run per row. Rate limits (429 Retry-After) and outages " +
    "are waited out; the run resumes where it stands and never asks again for rows already done. 503 when LLM_BASE_URL is not set. " +
    "By whoever may update the file (file:update).",
  request: { params: z.object({ table_id: pathId("table_id") }), body: jsonBody(CreateDraftBody) },
  responses: {
    202: { description: "The run, queued.", content: { "application/json": { schema: DraftSchema } } },
    ...problem("service_unavailable", "Drafting is not configured (LLM_BASE_URL is not set), or the run could not be queued."),
  },
});

export const getDraft = protectedRoute({
  method: "get",
  path: "/drafts/{draft_id}",
  operationId: "getDraft",
  tags: [TAG],
  summary: "A drafting run's status and progress",
  description: "Readable by whoever can read the table's file (file:read).",
  request: { params: z.object({ draft_id: pathId("draft_id") }) },
  responses: { 200: { description: "The run.", content: { "application/json": { schema: DraftSchema } } } },
});
