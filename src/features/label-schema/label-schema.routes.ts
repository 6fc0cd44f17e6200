import { z } from "@hono/zod-openapi";
import { problem } from "../../lib/openapi-responses.ts";
import { jsonBody, pathId, protectedRoute } from "../../lib/routes.ts";
import { QuestionSchema, QuestionsSchema } from "./questions.ts";

const TAG = "Label schema";

const projectParams = z.object({ project_id: pathId("project_id") });

const etagHeader = { ETag: { description: "The schema's version, for If-Match.", schema: { type: "string" as const } } };

export const LabelSchemaSchema = z
  .object({
    project_id: z.number().int(),
    schema_version: z.number().int().openapi({ description: "0 while the project has no schema; increments on every change." }),
    questions: z.array(QuestionSchema),
    updated_at: z.string().nullable().openapi({ description: "When the schema last changed; null while the project has none." }),
  })
  .openapi("LabelSchema");

export const getLabelSchema = protectedRoute({
  method: "get",
  path: "/projects/{project_id}/label-schema",
  operationId: "getLabelSchema",
  tags: [TAG],
  summary: "The questions the project's annotations answer",
  description:
    "Readable by whoever can see the project (its annotators, reviewers and qc included). A project without a schema answers 200 with " +
    "`schema_version` 0 and no questions: its annotations are free JSON.",
  request: { params: projectParams },
  responses: { 200: { description: "The label schema.", headers: etagHeader, content: { "application/json": { schema: LabelSchemaSchema } } } },
});

export const putLabelSchema = protectedRoute({
  method: "put",
  path: "/projects/{project_id}/label-schema",
  operationId: "putLabelSchema",
  tags: [TAG],
  summary: "Replace the project's label schema",
  description:
    "By the project's pm or a platform admin. Every change increments `schema_version`; a PUT of the questions as they are changes nothing. " +
    "Once any job of the project has an annotation, only additive changes are allowed: new optional questions, options appended to a " +
    "question's options, and titles; anything else is 409 naming the question. An empty list makes annotations free JSON again " +
    "(allowed only while no annotations exist, or if the schema has no questions). Send `If-Match` with the ETag you read (that of " +
    "`schema_version` 0 to create a schema only if none exists) to refuse a lost update (412).",
  request: {
    params: projectParams,
    headers: z.object({ "if-match": z.string().optional().openapi({ description: "The schema's ETag as last read." }) }),
    body: jsonBody(z.strictObject({ questions: QuestionsSchema })),
  },
  responses: {
    200: { description: "The schema as it now is.", headers: etagHeader, content: { "application/json": { schema: LabelSchemaSchema } } },
    ...problem("conflict", "Annotations exist and the change is not additive; the detail names the question."),
    ...problem("precondition_failed", "If-Match is stale: the schema changed since you read it."),
  },
});
