/**
 * The label schemas a suggestion is checked against: those of every project using the
 * table — the project owning the table's file, and the projects of the jobs over it.
 *
 * Like annotation saves (label-schema/answer-guard.ts), a write validates in TypeScript
 * against the schemas this isolate last saw for the table and sends their fingerprint
 * (`project:version,…`) with the statement; the statement writes only if the
 * fingerprint is still current, and otherwise returns the current schemas, with which
 * the write validates again and retries. Tables whose projects have no schema never
 * pay that second round trip; others pay it once per isolate and schema change.
 *
 * A suggestion's question must be a question of at least one of those schemas (a table
 * shared by two projects may carry suggestions for either's questions), and its value
 * must answer every schema that has the question. Without any schema, any question and
 * any JSON value but null are accepted, as annotations are free JSON then.
 */
import { sql, type SQL } from "drizzle-orm";
import type { FieldError } from "../../lib/errors.ts";
import { answerProblem, type Question, type SpanDemand } from "../label-schema/questions.ts";

export type ProjectSchema = { project_id: number; version: number; questions: Question[] };
export type TableSchemas = { fingerprint: string; schemas: ProjectSchema[] };

const NONE: TableSchemas = { fingerprint: "", schemas: [] };
const MAX_REMEMBERED = 10_000;
const known = new Map<number, TableSchemas>();

export function knownTableSchemas(tableId: number): TableSchemas {
  return known.get(tableId) ?? NONE;
}

export function rememberTableSchemas(tableId: number, schemas: TableSchemas) {
  if (known.size >= MAX_REMEMBERED) known.clear();
  known.set(tableId, schemas);
}

/** One suggestion to check: where it came from (`at`, the path prefix of its errors) and what it says. */
export type SuggestionInput = { at: string; row_index: number; question: string; value: unknown };

/** A span answer's demand on its row: the cell must be text at least `end` UTF-16 code units long. */
export type RowSpanDemand = { at: string; row_index: number; field: string; end: number };

export type SuggestionCheck = { errors: FieldError[]; spans: RowSpanDemand[] };

/** Checks one suggestion, adding its problems to `errors` and its span demands to `spans`. */
export type SuggestionChecker = (item: SuggestionInput, errors: FieldError[], spans: RowSpanDemand[]) => void;

/**
 * A checker of suggestions against the table's schemas (see above), with the questions
 * indexed once: an llm_output import checks every line of a file with one.
 */
export function suggestionChecker(schemas: readonly ProjectSchema[]): SuggestionChecker {
  const defining = new Map<string, { project_id: number; question: Question }[]>();
  for (const schema of schemas) {
    for (const question of schema.questions) {
      const list = defining.get(question.name) ?? [];
      list.push({ project_id: schema.project_id, question });
      defining.set(question.name, list);
    }
  }
  const known = [...defining.keys()].map((name) => JSON.stringify(name)).join(", ");
  const demands: SpanDemand[] = [];
  return (item, errors, spans) => {
    // With or without a schema: a suggestion's value is never null (the column is NOT NULL).
    if (item.value === null || item.value === undefined) {
      errors.push({ path: `${item.at}.value`, message: "a suggestion needs a value (null answers nothing)" });
      return;
    }
    if (defining.size === 0) return;
    const definitions = defining.get(item.question);
    if (!definitions) {
      errors.push({ path: `${item.at}.question`, message: `unknown question; the label schemas of the projects using the table have ${known}` });
      return;
    }
    for (const { project_id, question } of definitions) {
      demands.length = 0;
      const problem = answerProblem(question, item.value, demands);
      if (problem) errors.push({ path: `${item.at}.value`, message: `${question.type} question: ${problem} (label schema of project ${project_id})` });
      for (const span of demands) spans.push({ at: item.at, row_index: item.row_index, field: span.field, end: span.end });
    }
  };
}

/** Checks each suggestion's question and value against the table's schemas. */
export function checkSuggestions(schemas: readonly ProjectSchema[], items: readonly SuggestionInput[]): SuggestionCheck {
  const errors: FieldError[] = [];
  const spans: RowSpanDemand[] = [];
  const check = suggestionChecker(schemas);
  for (const item of items) check(item, errors, spans);
  return { errors, spans };
}

/**
 * SQL over a CTE `target` (with `table_id` and `project_id`, the file's project):
 * the projects using the table and their schemas, as CTEs `table_schemas` and
 * `schema_fingerprint`, to splice into a `with` list.
 */
export function tableSchemaCtes(): SQL {
  return sql`table_projects as (
      select target.project_id from target
      union select j.project_id from annotation_job j join target on j.table_id = target.table_id where j.deleted_at is null
    ), table_schemas as (
      select ls.project_id, ls.schema_version, ls.questions from label_schema ls join table_projects tp on tp.project_id = ls.project_id
    ), schema_fingerprint as (
      select coalesce(string_agg(ls.project_id::text || ':' || ls.schema_version::text, ',' order by ls.project_id), '') as fingerprint
      from table_schemas ls
    )`;
}

/** Columns: whether the planned fingerprint is current, and when it is not, the current schemas. */
export function schemaStateColumns(plannedFingerprint: string): SQL {
  return sql`(select fingerprint from schema_fingerprint) = ${plannedFingerprint}::text as schema_current,
    case when (select fingerprint from schema_fingerprint) <> ${plannedFingerprint}::text then jsonb_build_object(
      'fingerprint', (select fingerprint from schema_fingerprint),
      'schemas', (select coalesce(jsonb_agg(jsonb_build_object('project_id', project_id, 'version', schema_version, 'questions', questions) order by project_id), '[]'::jsonb) from table_schemas))
    end as schemas_now`;
}
