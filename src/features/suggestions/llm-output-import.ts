/**
 * Importing an `llm_output` file (JSON Lines `{row_index, question, value, score?, agent}`)
 * into the suggestions of the table named at upload (`target_table_id`).
 *
 * The parse consumer reads the file like any JSON Lines file, in chunks, exactly once
 * (parsing/chunked-parse.ts), but stores no rows of it: each chunk's lines are checked
 * here and their valid suggestions upserted in the very statement that advances the
 * cursor (`importStatement`, conditional on that statement's
 * claim), with the report (counts, the first invalid lines) updated alongside. A
 * redelivered or replayed chunk finds the cursor moved and writes nothing, so every line
 * is imported and counted once; a crash after any chunk resumes at the next one.
 *
 * The checks: the line's shape as it is read and the table's label schemas over the
 * whole chunk in TypeScript (the schemas read once per message, `loadImportTarget`), and
 * in the statement the row within the table and each span within its cell. Within a chunk a later line for the same (row, question,
 * agent) wins, as it does across chunks.
 */
import { sql, type SQL } from "drizzle-orm";
import { z } from "@hono/zod-openapi";
import type { Database } from "../../db/client.ts";
import { utf16LengthSql } from "../label-schema/answer-guard.ts";
import { checkSuggestions, type ProjectSchema } from "./table-schemas.ts";

export const MAX_REPORTED_LINES = 100;

export type ImportTarget = { table_id: number; schemas: ProjectSchema[] };

const LineSchema = z.strictObject({
  row_index: z.number().int().min(0).max(2_147_483_647),
  question: z.string().min(1).max(64),
  value: z.unknown(),
  score: z.number().refine(Number.isFinite, "must be a finite number").nullish(),
  agent: z.string().trim().min(1).max(200),
});

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
type Line = z.infer<typeof LineSchema> & { line: number };
type Suggestion = { line: number; row_index: number; question: string; agent: string; value: unknown; score: number | null };

/**
 * Collects a chunk's lines: each line's shape is checked as it is read, their answers
 * against the schemas once for the whole chunk (checkSuggestions), and the valid ones
 * kept (the last per key), the invalid ones reported.
 */
export class ImportChunk {
  private readonly lines: Line[] = [];
  private readonly errors: LineError[] = [];
  /** The chunk's lines as read (bytes of the file), the measure of its statement's size. */
  private bytes = 0;
  private count = 0;

  private readonly target: ImportTarget;

  constructor(target: ImportTarget) {
    this.target = target;
  }

  /** Whether the chunk has as many lines, or as many bytes of them, as a parse chunk may. */
  isFull(limits: { chunkRows: number; chunkPayloadBytes: number }): boolean {
    return this.count >= limits.chunkRows || this.bytes >= limits.chunkPayloadBytes;
  }

  add(line: number, data: Record<string, unknown>, bytes: number) {
    this.count += 1;
    this.bytes += bytes;
    const parsed = LineSchema.safeParse(data);
    if (parsed.success) {
      this.lines.push({ ...parsed.data, line });
      return;
    }
    const issue = parsed.error.issues[0]!;
    const path = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    this.errors.push({ line, message: `${path}${issue.message}` });
  }

  /** The chunk's valid suggestions (the last line per row, question and agent), their spans, and every invalid line. */
  private checked() {
    const check = checkSuggestions(
      this.target.schemas,
      this.lines.map((item) => ({ at: String(item.line), row_index: item.row_index, question: item.question, value: item.value })),
    );
    const problems = new Map<string, string[]>();
    for (const error of check.errors) {
      const at = error.path.slice(0, error.path.indexOf("."));
      const list = problems.get(at) ?? [];
      list.push(`${error.path.slice(at.length + 1)}: ${error.message}`);
      problems.set(at, list);
    }
    const valid = new Map<string, Suggestion>();
    for (const item of this.lines) {
      if (problems.has(String(item.line))) continue;
      valid.set(`${item.row_index}\u0000${item.question}\u0000${item.agent}`, {
        line: item.line, row_index: item.row_index, question: item.question, agent: item.agent, value: item.value, score: item.score ?? null,
      });
    }
    const kept = new Set([...valid.values()].map((item) => String(item.line)));
    return {
      valid: [...valid.values()],
      spans: check.spans.filter((span) => kept.has(span.at)),
      errors: [...this.errors, ...[...problems].map(([at, messages]) => ({ line: Number(at), message: messages.join("; ") }))],
    };
  }

  /** The chunk's writes, to run only where `claimed` (a CTE of the committing statement) has a row. */
  statement(versionId: number, claimed: SQL): SQL {
    const { valid, spans, errors } = this.checked();
    const items = JSON.stringify(valid);
    return sql`import_target as (
        select t.table_id, t.row_count from file_table t where t.table_id = ${this.target.table_id}::integer and exists (select 1 from ${claimed})
      ), import_input as (
        select * from jsonb_to_recordset(${items}::jsonb) as s(line integer, row_index integer, question text, agent text, value jsonb, score double precision)
      ), import_span_misses as (
        select distinct d.at::integer as line from jsonb_to_recordset(${JSON.stringify(spans)}::jsonb) as d(at text, row_index integer, field text, "end" integer)
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
      ), import_upserted as (
        insert into suggestion (table_id, row_index, question, agent, value, score)
        select import_target.table_id, s.row_index, s.question, s.agent, s.value, s.score
        from import_input s cross join import_target
        where s.line not in (select line from import_rejected)
        on conflict (table_id, row_index, question, agent)
          do update set value = excluded.value, score = excluded.score, updated_at = now()
        returning 1
      ), import_problems as (
        select line, message from jsonb_to_recordset(${JSON.stringify(errors)}::jsonb) as e(line integer, message text)
        union all select line, message from import_rejected
      ), import_reported as (
        update suggestion_import i set
          imported = i.imported + (select count(*)::integer from import_upserted),
          invalid = i.invalid + (select count(*)::integer from import_problems),
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
