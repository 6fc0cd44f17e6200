/**
 * Drafting runs over the HTTP API: starting one (one statement: access, the questions
 * checked against the label schemas of the projects using the table, the run and its
 * audit row; then its queue message) and reading one.
 */
import { sql } from "drizzle-orm";
import type { DRAFT_STATUSES } from "../../db/schema/suggestions.ts";
import type { DraftMessage } from "../../queues/messages.ts";
import { fileVisible } from "../../lib/access.ts";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError, type FieldError } from "../../lib/errors.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { runWrite } from "../../lib/write.ts";
import { can } from "../auth/principal.ts";
import { failDraft } from "./draft-run.ts";

export type CreateDraftInput = { questions: string[]; row_start?: number | undefined; row_end?: number | undefined; instructions?: string | undefined };

type DraftRow = {
  draft_id: number;
  table_id: number;
  status: (typeof DRAFT_STATUSES)[number];
  questions: string[];
  instructions: string | null;
  model: string;
  row_start: number;
  row_end: number;
  done: number;
  total: number;
  invalid: { row_index: number; question: string | null; message: string }[];
  invalid_count: number;
  error: string | null;
  created_by: number | null;
  created_at: string;
  updated_at: string;
};

export function presentDraft(row: DraftRow) {
  return {
    draft_id: row.draft_id,
    table_id: row.table_id,
    status: row.status,
    progress: { done: row.done, total: row.total },
    questions: row.questions,
    instructions: row.instructions,
    model: row.model,
    row_start: row.row_start,
    row_end: row.row_end,
    invalid: row.invalid,
    invalid_count: row.invalid_count,
    error: row.error,
    created_by: row.created_by,
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
  };
}

export type DraftView = ReturnType<typeof presentDraft>;

const DRAFT_COLUMNS = sql`d.draft_id, d.table_id, d.status, d.questions, d.instructions, d.model, d.row_start, d.row_end, d.done, d.total,
  d.invalid, d.invalid_count, d.error, d.created_by, d.created_at::text, d.updated_at::text`;

type CreatedRow = {
  may_write: boolean;
  row_count: number;
  unknown_questions: string[];
  known_questions: string[];
  draft: DraftRow | null;
};

export async function createDraft(ctx: AuthenticatedContext, tableId: number, input: CreateDraftInput): Promise<DraftView> {
  if (!ctx.config.LLM_BASE_URL) {
    throw new ApiError("service_unavailable", "Drafting by a model is not configured on this deployment: set LLM_BASE_URL (and LLM_API_KEY, LLM_MODEL).");
  }
  const mayWrite = can(ctx.principal, "file:update");
  const rowStart = input.row_start ?? 0;
  const cap = ctx.config.DRAFT_MAX_ROWS;
  const [rows] = await runWrite(ctx, [sql`
    with target as (
      select t.table_id, t.row_count, f.org_id, f.project_id
      from file_table t
      join file_version v on v.version_id = t.version_id
      join file f on f.file_id = v.file_id and f.deleted_at is null
      join project p on p.project_id = f.project_id and p.deleted_at is null
      where t.table_id = ${tableId}::integer and t.state <> 'building' and ${fileVisible(ctx.principal, "f")}
    ), known as (
      select distinct q.question ->> 'name' as name
      from label_schema ls cross join lateral jsonb_array_elements(ls.questions) q(question)
      where ls.project_id in (select target.project_id from target
        union select j.project_id from annotation_job j join target on j.table_id = target.table_id where j.deleted_at is null)
    ), asked as (
      select value as name from jsonb_array_elements_text(${JSON.stringify(input.questions)}::jsonb)
    ), bounds as (
      -- The range asked for, within the table, and stopped at the per-run cap.
      select target.*, least(coalesce(${input.row_end ?? null}::integer, target.row_count - 1), target.row_count - 1, ${rowStart}::integer + ${cap}::integer - 1) as row_end
      from target
    ), allowed as (
      select bounds.* from bounds
      where ${mayWrite}::boolean and not exists (select 1 from asked where name not in (select name from known))
        and ${rowStart}::integer <= bounds.row_end
    ), created as (
      insert into draft_run (table_id, org_id, project_id, questions, instructions, model, row_start, row_end, next_row, total, created_by)
      select table_id, org_id, project_id, ${JSON.stringify(input.questions)}::jsonb, ${input.instructions ?? null}::text, ${ctx.config.LLM_MODEL}::text,
        ${rowStart}::integer, row_end, ${rowStart}::integer, row_end - ${rowStart}::integer + 1, ${ctx.principal.user_id}::integer
      from allowed
      returning *
    ), audited as (
      ${auditInsert(ctx, {
        action: "draft_run.create",
        entity_type: "draft_run",
        entity_id: sql`created.draft_id`,
        org_id: sql`created.org_id`,
        project_id: sql`created.project_id`,
        after: sql`jsonb_build_object('table_id', created.table_id, 'questions', created.questions, 'row_start', created.row_start,
          'row_end', created.row_end, 'model', created.model, 'status', created.status)`,
      }, sql`created`)}
    )
    select ${mayWrite}::boolean as may_write, target.row_count,
      coalesce((select jsonb_agg(name) from asked where name not in (select name from known)), '[]'::jsonb) as unknown_questions,
      coalesce((select jsonb_agg(name order by name) from known), '[]'::jsonb) as known_questions,
      (select row_to_json(x) from (select ${DRAFT_COLUMNS} from created d) x) as draft
    from target`]);
  const row = rows![0] as CreatedRow | undefined;
  if (!row) throw new ApiError("not_found", `Table ${tableId} does not exist.`);
  if (!row.may_write) throw new ApiError("forbidden", "Your role does not allow this (file:update is required).");
  if (row.unknown_questions.length > 0) {
    const errors: FieldError[] = input.questions.flatMap((name, index) => row.unknown_questions.includes(name)
      ? [{ path: `body.questions.${index}`, message: `not a question of the label schemas of the projects using the table (${row.known_questions.map((known) => JSON.stringify(known)).join(", ") || "none: drafting needs a label schema"})` }]
      : []);
    throw new ApiError("validation_failed", "Drafts answer label-schema questions.", { errors });
  }
  if (!row.draft) {
    throw new ApiError("validation_failed", `Table ${tableId} has ${row.row_count} rows; the range asked for has none of them.`, {
      errors: [{ path: "body.row_start", message: `must be a row of the table (0–${row.row_count - 1}) and at most row_end` }],
    });
  }
  try {
    await (ctx.config.DRAFT_QUEUE as Queue<DraftMessage>).send({ kind: "draft", draft_id: row.draft.draft_id }, { contentType: "json" });
  } catch (error) {
    await failDraft(ctx.db, row.draft.draft_id, "The draft could not be queued; start it again.", ctx.requestId);
    ctx.logger.error("draft message not sent", { draft_id: row.draft.draft_id, error: (error as Error).message });
    throw new ApiError("service_unavailable", "The draft could not be queued; try again.");
  }
  return presentDraft(row.draft);
}

export async function getDraft(ctx: AuthenticatedContext, draftId: number): Promise<DraftView> {
  const result = await ctx.db.execute(sql`
    select ${DRAFT_COLUMNS}
    from draft_run d
    join file_table t on t.table_id = d.table_id
    join file_version v on v.version_id = t.version_id
    join file f on f.file_id = v.file_id and f.deleted_at is null
    join project p on p.project_id = f.project_id and p.deleted_at is null
    where d.draft_id = ${draftId}::integer and ${fileVisible(ctx.principal, "f")}`);
  const row = result.rows[0] as DraftRow | undefined;
  if (!row) throw new ApiError("not_found", `Draft ${draftId} does not exist.`);
  if (!can(ctx.principal, "file:read")) throw new ApiError("forbidden", "Your role does not allow this (file:read is required).");
  return presentDraft(row);
}
