/**
 * Validating an annotation save against the project's label schema in the save's own
 * single round trip.
 *
 * The answers are checked in TypeScript (questions.ts), which gives each problem its
 * message but needs the schema before the statement runs, and reading it first would
 * be a second round trip on every save. So each isolate remembers the latest schema it
 * has seen per project (and each job's project, which never changes), keyed by
 * `schema_version`, which only ever grows (schema rows are never deleted; project ids
 * are never reused). A save validates `data` against the remembered version and sends
 * that version with the statement, whose checks (job-scope.ts) then require:
 *
 * - `answers_valid`: when the project's schema is still the planned version (0: no
 *   schema), the TypeScript verdict. When it is not (a schema change, or the first save
 *   of a job in this isolate), the verdict of `label_answers_valid`, the same rules in
 *   SQL (migration 0021), against the schema the statement reads: the save still writes
 *   in its one round trip, and the statement returns that schema for the isolate to
 *   remember. A refusal then gets its messages from TypeScript over the returned schema;
 *   only when TypeScript finds nothing to say (a span past its cell: the message needs
 *   the cell's length) does the save run again, knowing the schema. Either way the
 *   verdict is reported only after the access and state checks, so a caller who may
 *   not save learns nothing about the schema.
 * - `spans_fit`: the one row-dependent rule, a span's `end` within its cell, checked on
 *   the row itself (UTF-16 code units, computed in SQL like JavaScript's String.length).
 *
 * Concurrent schema changes: a PUT of the schema and a save of one of its project's
 * annotations exclude each other with a transaction-scoped advisory lock on the project
 * (the PUT exclusive, saves shared, so saves never wait for each other). The save takes
 * it in the statement ahead of the saving one in the same batch (with the job's row lock), so that
 * statement's snapshot (READ COMMITTED: one per statement) is taken after any schema
 * change that held the lock has committed and it sees that change; and the PUT decides
 * whether responses exist only after every save that held the lock has committed.
 * Without that, a save validated against version n could commit next to a non-additive
 * version n+1 that saw no responses.
 */
import { sql, type SQL } from "drizzle-orm";
import { ApiError, type FieldError } from "../../lib/errors.ts";
import type { Check } from "../annotation-jobs/job-scope.ts";
import { checkAnswers, type Question, type SpanDemand } from "./questions.ts";

/** The advisory lock class (first key) of label schema locks; the second key is the project id. */
export const LABEL_SCHEMA_LOCK_CLASS = 0x6c73;

export type KnownSchema = { version: number; questions: Question[] };

const NO_SCHEMA: KnownSchema = { version: 0, questions: [] };
const MAX_REMEMBERED = 10_000;
const MAX_ATTEMPTS = 3;

const schemas = new Map<number, KnownSchema>();
const jobProjects = new Map<number, number>();

function bounded<K, V>(map: Map<K, V>) {
  if (map.size >= MAX_REMEMBERED) map.clear();
  return map;
}

/** Remembers a project's schema unless a newer version is already known. */
export function rememberSchema(projectId: number, schema: KnownSchema) {
  const known = schemas.get(projectId);
  if (!known || known.version < schema.version) bounded(schemas).set(projectId, schema);
}

function knownSchema(jobId: number): KnownSchema {
  const projectId = jobProjects.get(jobId);
  return (projectId === undefined ? undefined : schemas.get(projectId)) ?? NO_SCHEMA;
}

/** The answers checked against the schema version this isolate knows for the job's project. */
export type AnswerPlan = { version: number; errors: FieldError[]; spans: SpanDemand[] };

function planAnswers(jobId: number, data: Record<string, unknown>): AnswerPlan {
  const schema = knownSchema(jobId);
  return { version: schema.version, ...checkAnswers(schema.questions, data) };
}

/** The save found the project's schema at another version than it validated against. */
export class StaleLabelSchema extends ApiError {
  constructor() {
    super("conflict", "The project's label schema kept changing while the annotation was being saved; send it again.");
  }
}

/**
 * Runs `save` with the answers planned against the schema this isolate knows, again
 * (at most twice) when the statement reports that schema stale and returned the
 * current one (`learnFromSave` remembered it).
 */
export async function withCurrentSchema<T>(jobId: number, data: Record<string, unknown>, save: (plan: AnswerPlan) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await save(planAnswers(jobId, data));
    } catch (error) {
      if (!(error instanceof StaleLabelSchema) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/**
 * The project's schema lock, shared (see above), as an expression: a save's lock statement
 * (responses/consensus.ts `lockJobFirst`) takes it after the job's row lock, ahead of the
 * saving statement.
 */
export function schemaReadLock(projectId: SQL): SQL {
  return sql`pg_advisory_xact_lock_shared(${LABEL_SCHEMA_LOCK_CLASS}::integer, ${projectId})::text`;
}

/** Taken by a schema change before it looks at responses: excludes every save of the project. */
export function schemaWriteLock(projectId: number): SQL {
  return sql`select pg_advisory_xact_lock(${LABEL_SCHEMA_LOCK_CLASS}::integer, ${projectId}::integer)::text as locked`;
}

// Characters outside the BMP are two UTF-16 code units: count them twice.
const ASTRAL = "[^\\U00010000-\\U0010FFFF]";

/** A text's length in UTF-16 code units (JavaScript's String.length), as SQL. */
export function utf16LengthSql(text: SQL): SQL {
  return sql`(char_length(${text}) + char_length(regexp_replace(${text}, ${ASTRAL}::text, '', 'g')))`;
}

/** The UTF-16 length of the row's cell `field` when it is a string, else null (over the `scope` CTE). */
function cellLength(field: string, rowIndex: number): SQL {
  const cell = sql`(r.data -> ${field}::text)`;
  return sql`(select case when jsonb_typeof(${cell}) = 'string' then ${utf16LengthSql(sql`(r.data ->> ${field}::text)`)} end
    from file_table_row r where r.table_id = scope.table_id and r.row_index = ${rowIndex}::integer)`;
}

/**
 * Joined to `scope` by a save's checks CTE: the project's label schema as `ls` (its
 * columns null when the project has none), read once for every check and column below.
 */
export const labelSchemaJoin = sql`left join label_schema ls on ls.project_id = scope.project_id`;

const currentVersion = sql`coalesce(ls.schema_version, 0)`;

export type AnswerColumns = {
  project_id: number;
  label_schema_now: KnownSchema | null;
  span_lengths: Record<string, number | null> | null;
};

/** Columns for a SELECT over `scope` joined by `labelSchemaJoin`: the current schema when it is not the planned version, and the span cells' lengths. */
export function answerColumns(plan: AnswerPlan, rowIndex: number): SQL {
  const fields = [...new Set(plan.spans.map((span) => span.field))];
  const lengths = fields.length === 0
    ? sql`null::jsonb`
    : sql`jsonb_build_object(${sql.join(fields.map((field) => sql`${field}::text, ${cellLength(field, rowIndex)}`), sql`, `)})`;
  return sql`case when ls.project_id is not null and ls.schema_version <> ${plan.version}::integer then
      jsonb_build_object('version', ls.schema_version, 'questions', ls.questions)
    end as label_schema_now,
    ${lengths} as span_lengths`;
}

/** Remembers what a save's statement reported: the job's project and, when it was stale, the current schema. */
export function learnFromSave(jobId: number, row: AnswerColumns) {
  bounded(jobProjects).set(jobId, row.project_id);
  if (row.label_schema_now) rememberSchema(row.project_id, row.label_schema_now);
}

/**
 * The schema checks of a save of `data`, over `scope` joined by `labelSchemaJoin`, after its access
 * and state checks (their order is the precedence). `payload` is `data` as the statement's jsonb.
 */
export function answerChecks<R extends AnswerColumns>(plan: AnswerPlan, rowIndex: number, data: Record<string, unknown>, payload: SQL): Check<R>[] {
  const planned = sql`${currentVersion} = ${plan.version}::integer`;
  const fits = plan.spans.map((span) => sql`coalesce(${cellLength(span.field, rowIndex)} >= ${span.end}::integer, false)`);
  const rowData = sql`(select r.data from file_table_row r where r.table_id = scope.table_id and r.row_index = ${rowIndex}::integer)`;
  const sqlVerdict = sql`label_answers_valid(ls.questions, ${payload}, ${rowData})`;
  return [
    {
      name: "answers_valid",
      holds: sql`case when ${planned} then ${plan.errors.length === 0}::boolean else ${sqlVerdict} end`,
      fail: (row) => {
        const errors = row.label_schema_now ? checkAnswers(row.label_schema_now.questions, data).errors : plan.errors;
        if (errors.length === 0) return new StaleLabelSchema();
        return new ApiError("validation_failed", "The annotation does not answer the project's label schema.", { errors });
      },
    },
    {
      name: "spans_fit",
      holds: fits.length === 0 ? sql`true` : sql`(not ${planned} or (${sql.join(fits, sql` and `)}))`,
      fail: (row) => spansOutside(plan.spans, rowIndex, row.span_lengths ?? {}),
    },
  ];
}

function spansOutside(spans: readonly SpanDemand[], rowIndex: number, lengths: Record<string, number | null>): ApiError {
  const errors = spans.flatMap((span): FieldError[] => {
    const length = lengths[span.field];
    if (length === null || length === undefined) {
      return [{ path: `body.data.${span.question}`, message: `span question: row ${rowIndex} has no text in column "${span.field}" to point into` }];
    }
    if (span.end <= length) return [];
    return [{
      path: `body.data.${span.question}`,
      message: `span question: a span ends at ${span.end}, beyond the end of column "${span.field}" of row ${rowIndex}, ` +
        `which is ${length} UTF-16 code units long (end ≤ ${length})`,
    }];
  });
  return new ApiError("validation_failed", "The annotation does not answer the project's label schema.", { errors });
}

/**
 * Over the `scope` CTE of a job: the first row (by row_index) whose response by
 * `annotatorId` leaves a required question of the project's schema unanswered (missing
 * or null), and that question (the schema's first such), as `{row_index, question}`;
 * null when none. An annotator submitting checks their own responses (annotation-jobs.service.ts).
 */
export function firstUnansweredRequired(annotatorId: number): SQL {
  return sql`(select jsonb_build_object('row_index', a.row_index, 'question', q.question ->> 'name')
    from label_schema ls
    cross join lateral jsonb_array_elements(ls.questions) with ordinality q(question, position)
    join annotation a on a.job_id = scope.job_id and a.row_index between scope.row_start and scope.row_end
      and a.annotator_id = ${annotatorId}::integer
    where ls.project_id = scope.project_id and (q.question ->> 'required')::boolean
      and jsonb_typeof(coalesce(a.data -> (q.question ->> 'name'), 'null'::jsonb)) = 'null'
    order by a.row_index, q.position limit 1)`;
}
