import { z } from "@hono/zod-openapi";
import { problem } from "../../lib/openapi-responses.ts";
import { jsonBody, pathId, protectedRoute } from "../../lib/routes.ts";

const TAG = "Suggestions";

export const MAX_SUGGESTIONS_PER_REQUEST = 5000;

export const agentName = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .openapi({ description: "Who suggests: a model's name, an import, a tool. One value per (row, question, agent).", example: "gpt-4o-mini" });

export const SuggestionItemSchema = z.strictObject({
  row_index: z.number().int().min(0).max(2_147_483_647).openapi({ description: "The row of the table (0-based)." }),
  question: z.string().min(1).max(64).openapi({ description: "A question of the label schema of a project using the table." }),
  value: z.unknown().openapi({ description: "The suggested answer, as annotation `data` would hold it for the question." }),
  score: z.number().refine(Number.isFinite, "must be a finite number").optional().openapi({ description: "The agent's confidence, any finite number (commonly 0–1)." }),
});

const SuggestionsBody = z.strictObject({
  agent: agentName,
  suggestions: z
    .array(SuggestionItemSchema)
    .min(1)
    .max(MAX_SUGGESTIONS_PER_REQUEST)
    .superRefine((items, ctx) => {
      const seen = new Map<string, number>();
      items.forEach((item, index) => {
        const key = `${item.row_index}\u0000${item.question}`;
        const first = seen.get(key);
        if (first !== undefined) ctx.addIssue({ code: "custom", path: [index], message: `row ${item.row_index}, question "${item.question}" is already suggestion ${first} of this request` });
        else seen.set(key, index);
      });
    }),
});

export const SuggestionWriteSchema = z
  .object({
    table_id: z.number().int(),
    agent: z.string(),
    received: z.number().int(),
    created: z.number().int().openapi({ description: "Suggestions new for their (row, question, agent)." }),
    updated: z.number().int().openapi({ description: "Suggestions that replaced the agent's earlier one." }),
  })
  .openapi("SuggestionWrite");

export const SuggestionSchema = z
  .object({
    question: z.string(),
    agent: z.string(),
    value: z.unknown(),
    score: z.number().nullable(),
    updated_at: z.string(),
  })
  .openapi("Suggestion", { description: "An agent's suggested answer to a question on a row." });

export const upsertSuggestions = protectedRoute({
  method: "post",
  path: "/file-tables/{table_id}/suggestions",
  operationId: "upsertSuggestions",
  tags: [TAG],
  summary: "Suggest answers for the table's rows (pre-annotations)",
  description:
    "Up to 5,000 suggestions of one `agent`, each `{row_index, question, value, score?}`; a suggestion for a (row, question) the agent " +
    "already suggested replaces it. Each value is validated against the label schema of every project using the table (the project of " +
    "the table's file and those of the jobs over it): the question must be in at least one of them and the value must answer every one " +
    "that has it (422 at `body.suggestions.<i>.value`); without any schema any JSON but null is accepted. All or nothing. Job items carry the " +
    "suggestions of their rows. By whoever may update the file (file:update).",
  request: { params: z.object({ table_id: pathId("table_id") }), body: jsonBody(SuggestionsBody) },
  responses: {
    200: { description: "The suggestions are saved.", content: { "application/json": { schema: SuggestionWriteSchema } } },
    ...problem("conflict", "The label schemas kept changing while the suggestions were saved; send them again."),
  },
});

export const SuggestionImportSchema = z
  .object({
    version_id: z.number().int(),
    target_table_id: z.number().int(),
    parse_status: z.string().nullable().openapi({ description: "The version's parse status: the import runs as its parse; `succeeded` once every line is read." }),
    imported: z.number().int().openapi({ description: "Lines written as suggestions so far." }),
    invalid: z.number().int().openapi({ description: "Lines refused so far." }),
    errors: z
      .array(z.object({ line: z.number().int(), message: z.string() }))
      .openapi({ description: "The first 100 refused lines: the line number (1-based) and what is wrong, with the path into the line." }),
  })
  .openapi("SuggestionImport");

export const getSuggestionImport = protectedRoute({
  method: "get",
  path: "/file-versions/{version_id}/suggestion-import",
  operationId: "getSuggestionImport",
  tags: [TAG],
  summary: "How an llm_output file's import into suggestions went",
  description:
    "An `llm_output` version (uploaded with `target_table_id`) is imported by its parse, line by line, exactly once. Lines that are not " +
    "`{row_index, question, value, score?, agent}`, do not answer the label schemas of the projects using the target table (as for " +
    "POST …/suggestions), name a row beyond the table or a span beyond its cell are refused and listed here with their line number; " +
    "the others are upserted. A line that is not JSON at all fails the parse (`parse_error` names the line). 404 for other files.",
  request: { params: z.object({ version_id: pathId("version_id") }) },
  responses: { 200: { description: "The import's report.", content: { "application/json": { schema: SuggestionImportSchema } } } },
});
