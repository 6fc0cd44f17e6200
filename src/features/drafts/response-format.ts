/**
 * The JSON schema a model's answer must follow (chat-completions `response_format`
 * `json_schema`, strict): `{rows: [{row_index, <question>: answer, …}]}`, each answer's
 * schema derived from its label-schema question. Models can still answer outside it
 * (not every provider enforces it), so every answer is validated again (questions.ts).
 */
import type { Question } from "../label-schema/questions.ts";

type JsonSchema = Record<string, unknown>;

export function answerSchema(question: Question): JsonSchema {
  switch (question.type) {
    case "label":
      return { type: "string", enum: question.options };
    case "multi_label":
      return { type: "array", items: { type: "string", enum: question.options } };
    case "rating":
      return { type: "integer", minimum: question.min, maximum: question.max };
    case "number":
      return { type: "number", ...(question.min === undefined ? {} : { minimum: question.min }), ...(question.max === undefined ? {} : { maximum: question.max }) };
    case "text":
      return { type: "string" };
    case "span":
      return {
        type: "array",
        items: {
          type: "object",
          properties: { start: { type: "integer" }, end: { type: "integer" }, label: { type: "string", enum: question.options } },
          required: ["start", "end", "label"],
          additionalProperties: false,
        },
      };
    case "ranking":
      return { type: "array", items: { type: "string", enum: question.options } };
  }
}

export function responseFormat(questions: readonly Question[]) {
  const properties: Record<string, JsonSchema> = { row_index: { type: "integer" } };
  for (const question of questions) properties[question.name] = answerSchema(question);
  return {
    type: "json_schema",
    json_schema: {
      name: "row_answers",
      strict: true,
      schema: {
        type: "object",
        properties: {
          rows: {
            type: "array",
            items: { type: "object", properties, required: Object.keys(properties), additionalProperties: false },
          },
        },
        required: ["rows"],
        additionalProperties: false,
      },
    },
  };
}

/** How a question is to be answered, in words, for the prompt. */
export function describeQuestion(question: Question): string {
  const title = "title" in question && question.title ? ` (${question.title})` : "";
  const options = "options" in question ? ` options: ${JSON.stringify(question.options)}` : "";
  const range = question.type === "rating" || question.type === "number" ? ` min: ${question.min ?? "none"}, max: ${question.max ?? "none"}` : "";
  const field = question.type === "span" ? ` spans over column "${question.field}" as UTF-16 offsets` : "";
  return `- ${question.name}${title}: ${question.type}${options}${range}${field}`;
}
