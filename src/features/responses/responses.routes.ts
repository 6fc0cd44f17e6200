import { z } from "@hono/zod-openapi";
import { problem } from "../../lib/openapi-responses.ts";
import { jsonBody, protectedRoute } from "../../lib/routes.ts";
import { jobParams } from "../annotation-jobs/annotation-jobs.routes.ts";
import { FINAL_RULE } from "../annotations/annotations.routes.ts";

const TAG = "Annotations";

const itemParams = jobParams.extend({
  row_index: z.coerce.number().int().min(0).max(2_147_483_647).openapi({ param: { name: "row_index", in: "path" } }),
});

const answers = z
  .record(z.string(), z.unknown())
  .openapi({ description: "Answers keyed by question name, validated against the project's label schema like a response.", example: { label: "positive" } });

export const ResponseSchema = z
  .object({
    annotator_id: z.number().int(),
    data: answers,
    version: z.number().int(),
    updated_at: z.string(),
    submitted_at: z.string().nullable().openapi({ description: "When this annotator submitted the job; null before (and after a rejection)." }),
  })
  .openapi("AnnotationResponse");

export const FinalDecisionSchema = z
  .object({
    job_id: z.number().int(),
    row_index: z.number().int(),
    data: answers,
    version: z.number().int().openapi({ description: "Increments on every PUT …/final of the row." }),
    set_by: z.number().int().nullable(),
    updated_at: z.string(),
  })
  .openapi("FinalDecision");

export const RowResponsesSchema = z
  .object({
    row_index: z.number().int(),
    responses: z.array(ResponseSchema).openapi({ description: "Every annotator's response to the row, by annotator_id." }),
    responses_count: z.number().int(),
    final: z.record(z.string(), z.unknown()).nullable().openapi({ description: FINAL_RULE }),
    agreed: z.boolean().openapi({ description: "The responses agree on every answered question (a reviewer's decision does not change it)." }),
    decision: FinalDecisionSchema.nullable().openapi({ description: "The reviewer's PUT …/final values, if any (`final` already includes them)." }),
  })
  .openapi("RowResponses");

export const listRowResponses = protectedRoute({
  method: "get",
  path: "/annotation-jobs/{job_id}/items/{row_index}/responses",
  operationId: "listRowResponses",
  tags: [TAG],
  summary: "Every annotator's response to a row, with the row's final value and whether they agreed",
  description:
    "For the job's reviewers and qc, the project's pm and platform admins (and a client organization once the job is reviewed). " +
    "An assigned annotator gets 403: annotators never see one another's responses (their own is GET …/annotation). " +
    "404 when the row is outside the job's range.",
  request: { params: itemParams },
  responses: { 200: { description: "The row's responses.", content: { "application/json": { schema: RowResponsesSchema } } } },
});

export const setRowFinal = protectedRoute({
  method: "put",
  path: "/annotation-jobs/{job_id}/items/{row_index}/final",
  operationId: "setRowFinal",
  tags: [TAG],
  summary: "Decide a row's final value (a reviewer resolving disagreement)",
  description:
    "By a reviewer or qc assigned to the job, the project's pm or a platform admin, while the job is not yet reviewed (409 after: its " +
    "result is delivered). `data` is validated against the project's label schema like a response (422 at `body.data.<question>`); " +
    "its questions replace the responses' consensus in the row's `final`, question by question; questions it leaves out keep the " +
    "consensus. A later PUT replaces the whole decision (last write wins). 201 for the row's first decision, 200 after.",
  request: { params: itemParams, body: jsonBody(z.strictObject({ data: answers })) },
  responses: {
    200: { description: "The decision, replaced.", content: { "application/json": { schema: FinalDecisionSchema } } },
    201: { description: "The row's first decision.", content: { "application/json": { schema: FinalDecisionSchema } } },
    ...problem("conflict", "The job is reviewed (approved): its rows' final values are delivered and can no longer change."),
  },
});
