/**
 * Writing suggestions: `POST /file-tables/{table_id}/suggestions` upserts up to 5,000
 * at once in one statement (one round trip): the access check, the schema checks that
 * need the database (the schemas still current, each row in the table, each span
 * within its cell), the upsert and its audit row.
 */
import { sql } from "drizzle-orm";
import { fileVisible } from "../../lib/access.ts";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError, type FieldError } from "../../lib/errors.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { runWrite } from "../../lib/write.ts";
import { can } from "../auth/principal.ts";
import { utf16LengthSql } from "../label-schema/answer-guard.ts";
import {
  checkSuggestions,
  knownTableSchemas,
  rememberTableSchemas,
  schemaStateColumns,
  tableSchemaCtes,
  type TableSchemas,
} from "./table-schemas.ts";

export type SuggestionBody = {
  agent: string;
  suggestions: { row_index: number; question: string; value: unknown; score?: number | undefined }[];
};

export type SuggestionWriteResult = { table_id: number; agent: string; received: number; created: number; updated: number };

const MAX_ATTEMPTS = 3;
const MAX_REPORTED = 100;

type WriteRow = {
  may_write: boolean;
  schema_current: boolean;
  schemas_now: TableSchemas | null;
  rows_outside: { at: string; row_index: number }[];
  spans_outside: { at: string; field: string; end: number; length: number | null }[];
  row_count: number;
  created: number | null;
  updated: number | null;
};

const notFound = (tableId: number) => new ApiError("not_found", `Table ${tableId} does not exist.`);
const invalid = (errors: FieldError[]) =>
  new ApiError("validation_failed", "Some suggestions do not answer the label schemas of the projects using the table.", { errors });

/** Upserts the suggestions, validated against the table's schemas; retried when this isolate's view of them was stale. */
export async function upsertSuggestions(ctx: AuthenticatedContext, tableId: number, body: SuggestionBody): Promise<SuggestionWriteResult> {
  for (let attempt = 1; ; attempt++) {
    const planned = knownTableSchemas(tableId);
    const row = await writeOnce(ctx, tableId, body, planned);
    if (!row) throw notFound(tableId);
    if (!row.may_write) throw new ApiError("forbidden", "Your role does not allow this (file:update is required).");
    if (!row.schema_current) {
      if (row.schemas_now) rememberTableSchemas(tableId, row.schemas_now);
      if (attempt >= MAX_ATTEMPTS) throw new ApiError("conflict", "The label schemas kept changing while the suggestions were being saved; send them again.");
      continue;
    }
    const check = checkSuggestions(planned.schemas, items(body));
    if (check.errors.length > 0) throw invalid(check.errors.slice(0, MAX_REPORTED));
    if (row.rows_outside.length > 0) {
      throw invalid(row.rows_outside.map((miss) => ({
        path: `${miss.at}.row_index`,
        message: `table ${tableId} has ${row.row_count} rows (row_index 0–${row.row_count - 1}); there is no row ${miss.row_index}`,
      })));
    }
    if (row.spans_outside.length > 0) {
      throw invalid(row.spans_outside.map((miss) => ({
        path: `${miss.at}.value`,
        message: miss.length === null
          ? `span question: the row has no text in column "${miss.field}" to point into`
          : `span question: a span ends at ${miss.end}, beyond the end of column "${miss.field}", which is ${miss.length} UTF-16 code units long`,
      })));
    }
    return { table_id: tableId, agent: body.agent, received: body.suggestions.length, created: row.created ?? 0, updated: row.updated ?? 0 };
  }
}

function items(body: SuggestionBody) {
  return body.suggestions.map((suggestion, index) => ({ at: `body.suggestions.${index}`, ...suggestion }));
}

async function writeOnce(ctx: AuthenticatedContext, tableId: number, body: SuggestionBody, planned: TableSchemas): Promise<WriteRow | undefined> {
  const check = checkSuggestions(planned.schemas, items(body));
  const mayChange = can(ctx.principal, "file:update");
  const input = JSON.stringify(body.suggestions.map((s, index) => ({
    at: `body.suggestions.${index}`, row_index: s.row_index, question: s.question, value: s.value, score: s.score ?? null,
  })));
  const [rows] = await runWrite(ctx, [sql`
    with target as (
      select t.table_id, t.row_count, f.org_id, f.project_id
      from file_table t
      join file_version v on v.version_id = t.version_id
      join file f on f.file_id = v.file_id
      join project p on p.project_id = f.project_id and p.deleted_at is null
      where t.table_id = ${tableId}::integer and t.state <> 'building' and f.deleted_at is null and ${fileVisible(ctx.principal, "f")}
    ), ${tableSchemaCtes()},
    input as (
      select * from jsonb_to_recordset(${input}::jsonb) as s(at text, row_index integer, question text, value jsonb, score double precision)
    ), rows_outside as (
      select s.at, s.row_index from input s cross join target where s.row_index >= target.row_count
      order by s.row_index limit ${MAX_REPORTED}
    ), spans_outside as (
      select d.at, d.field, d."end", c.length from jsonb_to_recordset(${JSON.stringify(check.spans)}::jsonb) as d(at text, row_index integer, field text, "end" integer)
      cross join target
      left join lateral (
        select case when jsonb_typeof(r.data -> d.field) = 'string' then ${utf16LengthSql(sql`(r.data ->> d.field)`)} end as length
        from file_table_row r where r.table_id = target.table_id and r.row_index = d.row_index
      ) c on true
      where not coalesce(c.length >= d."end", false)
      limit ${MAX_REPORTED}
    ), allowed as (
      select target.* from target
      where ${mayChange}::boolean and (select fingerprint from schema_fingerprint) = ${planned.fingerprint}::text
        and ${check.errors.length === 0}::boolean
        and not exists (select 1 from rows_outside) and not exists (select 1 from spans_outside)
    ), upserted as (
      insert into suggestion (table_id, row_index, question, agent, value, score)
      select allowed.table_id, s.row_index, s.question, ${body.agent}::text, s.value, s.score from input s cross join allowed
      on conflict (table_id, row_index, question, agent)
        do update set value = excluded.value, score = excluded.score, updated_at = now()
      returning (xmax = 0) as created
    ), counted as (
      select count(*) filter (where created)::integer as created, count(*) filter (where not created)::integer as updated from upserted
    ), audited as (
      ${auditInsert(ctx, {
        action: "suggestion.upsert",
        entity_type: "file_table",
        entity_id: sql`allowed.table_id`,
        org_id: sql`allowed.org_id`,
        project_id: sql`allowed.project_id`,
        after: sql`jsonb_build_object('agent', ${body.agent}::text, 'created', counted.created, 'updated', counted.updated)`,
      }, sql`allowed cross join counted`)}
    )
    select ${mayChange}::boolean as may_write, target.row_count, ${schemaStateColumns(planned.fingerprint)},
      (select coalesce(jsonb_agg(jsonb_build_object('at', at, 'row_index', row_index)), '[]'::jsonb) from rows_outside) as rows_outside,
      (select coalesce(jsonb_agg(jsonb_build_object('at', at, 'field', field, 'end', "end", 'length', length)), '[]'::jsonb) from spans_outside) as spans_outside,
      (select created from counted where exists (select 1 from allowed)) as created,
      (select updated from counted where exists (select 1 from allowed)) as updated
    from target`]);
  return rows![0] as WriteRow | undefined;
}

export type SuggestionImportView = {
  version_id: number;
  target_table_id: number;
  parse_status: string | null;
  imported: number;
  invalid: number;
  errors: { line: number; message: string }[];
};

/** The import report of an llm_output version the caller may see. */
export async function getSuggestionImport(ctx: AuthenticatedContext, versionId: number): Promise<SuggestionImportView> {
  const result = await ctx.db.execute(sql`
    select i.version_id, i.target_table_id, v.parse_status, i.imported, i.invalid, i.errors
    from suggestion_import i
    join file_version v on v.version_id = i.version_id
    join file f on f.file_id = v.file_id and f.deleted_at is null
    join project p on p.project_id = f.project_id and p.deleted_at is null
    where i.version_id = ${versionId}::integer and ${fileVisible(ctx.principal, "f")}`);
  const row = result.rows[0] as SuggestionImportView | undefined;
  if (!row) throw new ApiError("not_found", `File version ${versionId} does not exist or imports no suggestions.`);
  if (!can(ctx.principal, "file:read")) throw new ApiError("forbidden", "Your role does not allow this (file:read is required).");
  return row;
}
