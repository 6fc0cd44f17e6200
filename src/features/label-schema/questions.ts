/**
 * The label schema's questions: their definitions (what `PUT …/label-schema` accepts)
 * and the answers they accept (what `PUT …/annotation` checks `data` against).
 *
 * Definitions are stored as zod outputs them (only the keys the type uses, `title` only
 * when given), so the database can compare two versions of a question with jsonb
 * equality (label-schema.service.ts, the additive-change rule).
 */
import { z } from "@hono/zod-openapi";
import type { FieldError } from "../../lib/errors.ts";
import { INT4_MAX } from "../../lib/input-bounds.ts";

export const QUESTION_TYPES = ["label", "multi_label", "rating", "number", "text", "span", "ranking"] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];

export const MAX_QUESTIONS = 200;
export const MAX_OPTIONS = 1000;
export const MAX_TEXT_ANSWER = 10_000;

const name = z
  .string()
  .regex(/^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/, "must be snake_case: lower-case letters, digits and single underscores, starting with a letter")
  .max(64)
  .openapi({ description: "The question's key in annotation `data`: snake_case, unique in the schema.", example: "sentiment" });
const title = z.string().trim().min(1).max(500).optional().openapi({ description: "What annotators read; free to change at any time." });
const required = z.boolean().default(false).openapi({ description: "Must be answered (not missing, not null) in every row before the annotator submits the job. Default false." });

const options = z
  .array(z.string().min(1).max(200))
  .min(1)
  .max(MAX_OPTIONS)
  .superRefine((values, ctx) => {
    const seen = new Set<string>();
    values.forEach((value, index) => {
      if (seen.has(value)) ctx.addIssue({ code: "custom", path: [index], message: `duplicate option "${value}": options must be unique` });
      seen.add(value);
    });
  })
  .openapi({ description: "The allowed values, unique and non-empty. Once responses exist, new options may only be appended." });

const finite = z.number().refine(Number.isFinite, "must be a finite number");

function ordered<T extends { min?: number | undefined; max?: number | undefined }>(question: T, ctx: z.RefinementCtx) {
  if (question.min !== undefined && question.max !== undefined && question.min > question.max) {
    ctx.addIssue({ code: "custom", path: ["max"], message: `must be at least min (${question.min})` });
  }
}

const common = { name, title, required };

const LabelQuestion = z.strictObject({ ...common, type: z.literal("label"), options });
const MultiLabelQuestion = z.strictObject({ ...common, type: z.literal("multi_label"), options });
const RatingQuestion = z
  .strictObject({ ...common, type: z.literal("rating"), min: z.number().int().min(-1_000_000).max(1_000_000), max: z.number().int().min(-1_000_000).max(1_000_000) })
  .superRefine(ordered);
const NumberQuestion = z.strictObject({ ...common, type: z.literal("number"), min: finite.optional(), max: finite.optional() }).superRefine(ordered);
const TextQuestion = z.strictObject({ ...common, type: z.literal("text") });
const SpanQuestion = z.strictObject({
  ...common,
  type: z.literal("span"),
  field: z.string().min(1).max(200).openapi({ description: "The row column (a text cell) the spans point into." }),
  options,
});
const RankingQuestion = z.strictObject({ ...common, type: z.literal("ranking"), options });

export const QuestionSchema = z
  .discriminatedUnion("type", [LabelQuestion, MultiLabelQuestion, RatingQuestion, NumberQuestion, TextQuestion, SpanQuestion, RankingQuestion])
  .openapi("LabelQuestion", {
    description:
      "One question. `label`: one of `options`. `multi_label`: a set of `options` (no duplicates). `rating`: an integer `min`..`max` (both required). " +
      "`number`: a number within the optional `min`/`max`. `text`: a string of at most 10,000 characters (Unicode code points). " +
      "`span`: `[{start, end, label}]` over the row column `field`, `0 ≤ start < end ≤` the cell's length in UTF-16 code units " +
      "(as JavaScript's `String.length`: characters outside the Basic Multilingual Plane, such as most emoji, count 2), `label` one of `options`. " +
      "`ranking`: a permutation of `options`.",
  });

export type QuestionInput = z.output<typeof QuestionSchema>;

export const QuestionsSchema = z
  .array(QuestionSchema)
  .max(MAX_QUESTIONS)
  .superRefine((questions, ctx) => {
    const seen = new Set<string>();
    questions.forEach((question, index) => {
      if (seen.has(question.name)) ctx.addIssue({ code: "custom", path: [index, "name"], message: `duplicate question name "${question.name}": names must be unique` });
      seen.add(question.name);
    });
  });

/**
 * A question as stored and answered: zod's output keeps only the keys its type defines
 * (`title` only when given, `required` always), which is the stored, canonical form.
 */
export type Question = QuestionInput;

// ---------------------------------------------------------------- answers

/** A span answer's demand on its row: the cell `field` must be text at least `end` UTF-16 code units long. */
export type SpanDemand = { question: string; field: string; end: number };

export type AnswerCheck = { errors: FieldError[]; spans: SpanDemand[] };

const listed = (values: readonly string[]) => values.map((value) => JSON.stringify(value)).join(", ");

function isInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value);
}

/** What is wrong with `value` as an answer to `question` (null when nothing); spans also report how far they reach. */
export function answerProblem(question: Question, value: unknown, spans: SpanDemand[]): string | null {
  const options = "options" in question ? question.options : [];
  switch (question.type) {
    case "label":
      return typeof value === "string" && options.includes(value) ? null : `expected one of the options ${listed(options)}`;
    case "multi_label": {
      if (!Array.isArray(value) || !value.every((item) => typeof item === "string" && options.includes(item))) {
        return `expected an array of options from ${listed(options)}`;
      }
      return new Set(value).size === value.length ? null : "expected each option at most once (a set)";
    }
    case "rating":
      return isInteger(value) && value >= question.min && value <= question.max
        ? null
        : `expected an integer from ${question.min} to ${question.max}`;
    case "number": {
      const bounds = `${question.min === undefined ? "" : ` ≥ ${question.min}`}${question.max === undefined ? "" : ` ≤ ${question.max}`}`;
      const ok = typeof value === "number" && Number.isFinite(value)
        && (question.min === undefined || value >= question.min) && (question.max === undefined || value <= question.max);
      return ok ? null : `expected a number${bounds}`;
    }
    case "text":
      // UTF-16 units never undercount code points: most answers pass without spreading the string.
      return typeof value === "string" && (value.length <= MAX_TEXT_ANSWER || [...value].length <= MAX_TEXT_ANSWER) ? null : `expected a string of at most ${MAX_TEXT_ANSWER} characters`;
    case "span":
      return spanProblem(question, value, spans);
    case "ranking": {
      const permutation = Array.isArray(value) && value.length === options.length && new Set(value).size === value.length
        && value.every((item) => typeof item === "string" && options.includes(item));
      return permutation ? null : `expected a permutation of the options ${listed(options)} (each exactly once, in rank order)`;
    }
  }
}

function spanProblem(question: Extract<Question, { type: "span" }>, value: unknown, spans: SpanDemand[]): string | null {
  const { options } = question;
  const expected = `expected an array of {start, end, label} with integers 0 ≤ start < end (UTF-16 code units of column "${question.field}") and label one of ${listed(options)}`;
  if (!Array.isArray(value)) return expected;
  let reach = 0;
  for (const [index, span] of value.entries()) {
    if (typeof span !== "object" || span === null || Array.isArray(span)) return `${expected}; item ${index} is not an object`;
    const keys = Object.keys(span);
    const { start, end, label } = span as Record<string, unknown>;
    if (keys.length !== 3 || !isInteger(start) || !isInteger(end) || typeof label !== "string") return `${expected}; item ${index} is not {start, end, label}`;
    // No cell is longer than int4 (and the end must stay castable to one in SQL).
    if (start < 0 || start >= end || end > INT4_MAX) return `${expected}; item ${index} has start ${start}, end ${end}`;
    if (!options.includes(label)) return `${expected}; item ${index} has label ${JSON.stringify(label)}`;
    reach = Math.max(reach, end);
  }
  if (reach > 0) spans.push({ question: question.name, field: question.field, end: reach });
  return null;
}

/**
 * Checks annotation `data` against the schema's questions: every key must be a question,
 * every non-null value a valid answer (null leaves a question unanswered). What depends
 * on the row (a span's end within its cell) is returned as demands for the database to
 * check in the saving statement. An empty schema accepts any JSON object.
 */
export function checkAnswers(questions: readonly Question[], data: Record<string, unknown>): AnswerCheck {
  const errors: FieldError[] = [];
  const spans: SpanDemand[] = [];
  if (questions.length === 0) return { errors, spans };
  const byName = new Map(questions.map((question) => [question.name, question]));
  for (const [key, value] of Object.entries(data)) {
    const question = byName.get(key);
    if (!question) {
      errors.push({ path: `body.data.${key}`, message: `unknown question; the label schema has ${listed([...byName.keys()])}` });
      continue;
    }
    if (value === null) continue;
    const problem = answerProblem(question, value, spans);
    if (problem) errors.push({ path: `body.data.${key}`, message: `${question.type} question: ${problem}` });
  }
  return { errors, spans };
}

