/**
 * Importing an `llm_output` file (JSON Lines `{row_index, question, value, score?, agent}`)
 * into the suggestions of the table named at upload (`target_table_id`).
 *
 * The parse consumer reads the file like any JSON Lines file, in chunks, exactly once
 * (parsing/chunked-parse.ts), but stores no rows of it: each chunk's lines are checked
 * here and their valid suggestions written in the very statement that advances the
 * cursor (`ImportChunk.statement`, conditional on that statement's claim), with the
 * report (counts, the first invalid lines) updated alongside. A redelivered or replayed
 * chunk finds the cursor moved and writes nothing, so every line is imported and
 * counted once; a crash after any chunk resumes at the next one.
 *
 * The checks: each line's shape and its answer against the table's label schemas in
 * TypeScript as it is read (the schemas read once per message, `loadImportTarget`), and
 * in the statement the row within the table and each span within its cell. A later valid
 * line for the same (row, question, agent) wins, within a chunk as across chunks; within a
 * chunk, one the statement then rejects (its row beyond the table, a span beyond its cell)
 * has already displaced the earlier line, so neither is written.
 */
import { sql, type SQL } from "drizzle-orm";
import { z } from "@hono/zod-openapi";
import type { Database } from "../../db/client.ts";
import { utf16LengthSql } from "../label-schema/answer-guard.ts";
import type { FieldError } from "../../lib/errors.ts";
import { suggestionChecker, type ProjectSchema, type RowSpanDemand, type SuggestionChecker } from "./table-schemas.ts";

export const MAX_REPORTED_LINES = 100;

export type ImportTarget = { table_id: number; schemas: ProjectSchema[] };

const LineSchema = z.strictObject({
  row_index: z.number().int().min(0).max(2_147_483_647),
  question: z.string().min(1).max(64),
  value: z.unknown(),
  score: z.number().refine(Number.isFinite, "must be a finite number").nullish(),
  agent: z.string().trim().min(1).max(200),
});
type LineShape = z.infer<typeof LineSchema>;

const LINE_FIELDS = new Set(Object.keys(LineSchema.shape));

/**
 * A line as nearly every line of a model's output is, checked without zod (which took a
 * fifth of the consumer's time per line): it accepts a subset of what LineSchema accepts,
 * and gives the same result. Anything else (a line in error, an agent with spaces to trim)
 * goes through LineSchema, which stays the rule and words the errors.
 */
function plainLine(data: Record<string, unknown>): LineShape | null {
  for (const key in data) if (!LINE_FIELDS.has(key)) return null;
  const { row_index, question, value, score, agent } = data;
  if (typeof row_index !== "number" || !Number.isInteger(row_index) || row_index < 0 || row_index > 2_147_483_647) return null;
  if (typeof question !== "string" || question.length < 1 || question.length > 64) return null;
  if (score !== undefined && score !== null && (typeof score !== "number" || !Number.isFinite(score))) return null;
  if (typeof agent !== "string" || agent.length < 1 || agent.length > 200 || agent.trim().length !== agent.length) return null;
  return { row_index, question, value, score, agent };
}

/** The version's import target and the label schemas of every project using it; null for a version that imports nothing. */
export async function loadImportTarget(db: Database, versionId: number): Promise<ImportTarget | null> {
  const result = await db.execute(sql`
    with target as (
      select i.target_table_id as table_id, f.project_id
      from suggestion_import i
      join file_table t on t.table_id = i.target_table_id
      join file_version v on v.version_id = t.version_id
      join file f on f.file_id = v.file_id
      where i.version_id = ${versionId}::integer
    )
    select target.table_id, coalesce((
      select jsonb_agg(jsonb_build_object('project_id', ls.project_id, 'version', ls.schema_version, 'questions', ls.questions))
      from label_schema ls
      where ls.project_id in (select target.project_id union select j.project_id from annotation_job j where j.table_id = target.table_id and j.deleted_at is null)
    ), '[]'::jsonb) as schemas
    from target`);
  return (result.rows[0] as ImportTarget | undefined) ?? null;
}

type LineError = { line: number; message: string };
/** A valid line's suggestion as the statement reads it, a JSON array (shorter than an object, and cheaper to parse). */
type ImportRow = [line: number, row_index: number, question: string, agent: string, value: unknown, score: number | null];

const UPSERT = sql`on conflict (table_id, row_index, question, agent) do update set value = excluded.value, score = excluded.score, updated_at = now()`;

/**
 * How an import writes its chunks. A plain INSERT costs the database about a fifth less
 * than INSERT … ON CONFLICT (BENCHMARKS.md, "Suggestions import"), and a file of a
 * model's first answers for a table meets no suggestion already stored. So each import
 * inserts, and a chunk that meets a stored suggestion (the statement fails whole, a
 * unique violation of the key, nothing written) is sent again as an upsert, as is every
 * chunk built after it in the same message (those built while it was in flight may still
 * try the INSERT first, and meet the same fate).
 */
export class ImportWrites {
  private conflicted = false;

  /** The key a plain INSERT may meet (db/schema/suggestions.ts). */
  readonly key = "suggestion_pk";

  /** The chunk's statement to send first, and the one to send instead if it meets a stored suggestion. */
  statements(chunk: ImportChunk, versionId: number, claimed: SQL): { first: SQL; ifConflict: SQL | null } {
    if (this.conflicted) return { first: chunk.statement(versionId, claimed, "upsert"), ifConflict: null };
    return { first: chunk.statement(versionId, claimed, "insert"), ifConflict: chunk.statement(versionId, claimed, "upsert") };
  }

  /** A chunk met a stored suggestion: upsert from now on. */
  conflict() {
    this.conflicted = true;
  }
}

/** Each target's checker, built once per message rather than once per chunk. */
const checkers = new WeakMap<ImportTarget, SuggestionChecker>();

function checkerOf(target: ImportTarget): SuggestionChecker {
  let check = checkers.get(target);
  if (!check) checkers.set(target, (check = suggestionChecker(target.schemas)));
  return check;
}

/**
 * Collects a chunk's lines, each checked as it is read (its shape, then its answer
 * against the schemas); the valid ones are kept, the last per row, question and agent,
 * and the invalid ones reported.
 */
export class ImportChunk {
  /** The valid lines in the order read; a slot is emptied when a later line of the chunk has its row, question and agent. */
  private readonly rows: (ImportRow | null)[] = [];
  /** Question → agent → row_index → the row's slot in `rows` (keys compared without building one string a line). */
  private readonly slots = new Map<string, Map<string, Map<number, number>>>();
  private superseded = 0;
  private readonly spans: RowSpanDemand[] = [];
  private readonly errors: LineError[] = [];
  /** The chunk's lines as read (bytes of the file), the measure of its statement's size. */
  private size = 0;
  private count = 0;
  private readonly target: ImportTarget;
  private readonly check: SuggestionChecker;
  private readonly problems: FieldError[] = [];
  /** The statement's parameters, serialised once for both of its forms. */
  private parameters: { items: string; spans: string; errors: string; invalid: number } | undefined;

  constructor(target: ImportTarget) {
    this.target = target;
    this.check = checkerOf(target);
  }

  /** Whether the chunk has as many lines (`importChunkLines`, or else `chunkRows`), or as many bytes of them, as a chunk may. */
  isFull(limits: { chunkRows: number; chunkPayloadBytes: number; importChunkLines?: number }): boolean {
    return this.count >= (limits.importChunkLines ?? limits.chunkRows) || this.size >= limits.chunkPayloadBytes;
  }

  get bytes(): number {
    return this.size;
  }

  add(line: number, data: Record<string, unknown>, bytes: number) {
    this.count += 1;
    this.size += bytes;
    const shape = plainLine(data) ?? this.parsedLine(line, data);
    if (!shape) return;
    const { row_index, question, agent, value, score } = shape;
    const at = String(line);
    const spansBefore = this.spans.length;
    this.problems.length = 0;
    this.check({ at, row_index, question, value }, this.problems, this.spans);
    if (this.problems.length > 0) {
      this.spans.length = spansBefore;
      this.errors.push({ line, message: this.problems.map((problem) => `${problem.path.slice(at.length + 1)}: ${problem.message}`).join("; ") });
      return;
    }
    const slots = this.slotsOf(question, agent);
    const earlier = slots.get(row_index);
    if (earlier !== undefined) {
      this.rows[earlier] = null;
      this.superseded += 1;
    }
    slots.set(row_index, this.rows.length);
    this.rows.push([line, row_index, question, agent, value, score ?? null]);
  }

  /** The line through LineSchema: its shape, or null with its error recorded. */
  private parsedLine(line: number, data: Record<string, unknown>): LineShape | null {
    const parsed = LineSchema.safeParse(data);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0]!;
    const path = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    this.errors.push({ line, message: `${path}${issue.message}` });
    return null;
  }

  /** Where the chunk's rows of one question and agent are, by row. */
  private slotsOf(question: string, agent: string): Map<number, number> {
    let byAgent = this.slots.get(question);
    if (!byAgent) this.slots.set(question, (byAgent = new Map()));
    let byRow = byAgent.get(agent);
    if (!byRow) byAgent.set(agent, (byRow = new Map()));
    return byRow;
  }

  /** The span demands of the lines kept. */
  private keptSpans(): RowSpanDemand[] {
    if (this.superseded === 0) return this.spans;
    const kept = new Set(this.rows.flatMap((row) => (row ? [String(row[0])] : [])));
    return this.spans.filter((span) => kept.has(span.at));
  }

  /**
   * The chunk's writes, to run only where `claimed` (a CTE of the committing statement)
   * has a row. `insert`: a plain INSERT, which fails (the whole statement with it) on a
   * suggestion already stored (see ImportWrites); `upsert`: INSERT … ON CONFLICT.
   */
  statement(versionId: number, claimed: SQL, how: "insert" | "upsert"): SQL {
    // Only the first lines in error can be listed (MAX_REPORTED_LINES), and the rest are counted.
    this.parameters ??= {
      items: JSON.stringify(this.superseded === 0 ? this.rows : this.rows.filter((row) => row !== null)),
      spans: JSON.stringify(this.keptSpans()),
      errors: JSON.stringify(this.errors.slice(0, MAX_REPORTED_LINES)),
      invalid: this.errors.length,
    };
    const { items, spans, errors, invalid } = this.parameters;
    return sql`import_target as (
        select t.table_id, t.row_count from file_table t where t.table_id = ${this.target.table_id}::integer and exists (select 1 from ${claimed})
      ), import_input as (
        select (s ->> 0)::integer as line, (s ->> 1)::integer as row_index, s ->> 2 as question, s ->> 3 as agent, s -> 4 as value, (s ->> 5)::double precision as score
        from jsonb_array_elements(${items}::jsonb) as s
      ), import_span_misses as (
        select distinct d.at::integer as line from jsonb_to_recordset(${spans}::jsonb) as d(at text, row_index integer, field text, "end" integer)
        cross join import_target
        left join lateral (
          select case when jsonb_typeof(r.data -> d.field) = 'string' then ${utf16LengthSql(sql`(r.data ->> d.field)`)} end as length
          from file_table_row r where r.table_id = import_target.table_id and r.row_index = d.row_index
        ) c on true
        where not coalesce(c.length >= d."end", false)
      ), import_rejected as (
        select s.line, case when s.row_index >= import_target.row_count
            then format('row_index: the table has %s rows; there is no row %s', import_target.row_count, s.row_index)
            else 'value: a span ends beyond the end of its column''s text' end as message
        from import_input s cross join import_target
        where s.row_index >= import_target.row_count or s.line in (select line from import_span_misses)
      ), import_written as (
        insert into suggestion (table_id, row_index, question, agent, value, score)
        select import_target.table_id, s.row_index, s.question, s.agent, s.value, s.score
        from import_input s cross join import_target
        where s.line not in (select line from import_rejected)
        ${how === "upsert" ? UPSERT : sql``}
        returning 1
      ), import_problems as (
        select line, message from jsonb_to_recordset(${errors}::jsonb) as e(line integer, message text)
        union all select line, message from import_rejected
      ), import_reported as (
        update suggestion_import i set
          imported = i.imported + (select count(*)::integer from import_written),
          invalid = i.invalid + ${invalid}::integer + (select count(*)::integer from import_rejected),
          errors = i.errors || coalesce((
            select jsonb_agg(jsonb_build_object('line', p.line, 'message', p.message) order by p.line)
            from (select line, message, row_number() over (order by line) as n from import_problems) p
            where p.n <= ${MAX_REPORTED_LINES} - jsonb_array_length(i.errors)
          ), '[]'::jsonb),
          updated_at = now()
        where i.version_id = ${versionId}::integer and exists (select 1 from ${claimed})
      )`;
  }
}
