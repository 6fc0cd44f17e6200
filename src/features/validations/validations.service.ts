/**
 * Validation runs over the HTTP API: request one for a table (file:update; queued, the
 * validation queue does the work: validation-run.ts), read it and page through its
 * violations (file:read), download them as CSV. A run is visible while its table's file
 * is (the same access as the table's rows); each read is one statement with its access
 * check, the request one statement with its event_log row.
 */
import { sql, type SQL } from "drizzle-orm";
import type { ValidationMessage } from "../../queues/messages.ts";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import { errorFields } from "../../lib/logger.ts";
import { decodeCursor, encodeCursor, type Page } from "../../lib/pagination.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { runWrite } from "../../lib/write.ts";
import { fileAccessOf } from "../parsing/parsing.service.ts";
import { presentValidationRun, type ValidationRunRow, type ValidationRunView, type ViolationView } from "./validations.presenters.ts";

const RUN_COLUMNS = sql`r.validation_id, r.project_id, r.table_id, r.status, r.next_row, r.total_rows, r.violation_count, r.rules, r.error, r.created_at, r.finished_at`;

const runNotFound = (validationId: number) => new ApiError("not_found", `Validation ${validationId} does not exist.`);
const readForbidden = () => new ApiError("forbidden", "Your role does not allow this (file:read is required).");

/** The runs the caller may see: those of tables of visible, live files. */
function visibleRun(ctx: AuthenticatedContext, validationId: number): SQL {
  return sql`validation_run r
    join file_table t on t.table_id = r.table_id
    join file_version fv on fv.version_id = t.version_id
    join file f on f.file_id = fv.file_id and f.deleted_at is null
    join project p on p.project_id = f.project_id and p.deleted_at is null
    where r.validation_id = ${validationId} and ${fileAccessOf(ctx.principal).visible("f")}`;
}

export async function createValidation(ctx: AuthenticatedContext, tableId: number): Promise<ValidationRunView> {
  const access = fileAccessOf(ctx.principal);
  const [rows] = await runWrite(ctx, [
    sql`with target as (
        select t.table_id, t.row_count, f.project_id, f.org_id, coalesce(vr.rules, '[]'::jsonb) as rules
        from file_table t
        join file_version v on v.version_id = t.version_id
        join file f on f.file_id = v.file_id and f.deleted_at is null
        join project p on p.project_id = f.project_id and p.deleted_at is null
        left join project_validation_rules vr on vr.project_id = f.project_id
        where t.table_id = ${tableId} and t.state <> 'building' and ${access.visible("f")}
      ), created as (
        insert into validation_run (project_id, org_id, table_id, rules, total_rows, requested_by)
        select project_id, org_id, table_id, rules, row_count, ${ctx.principal.user_id}::int from target
        where ${access.mayChange} and jsonb_array_length(target.rules) > 0
        returning *
      ), audited as (
        ${auditInsert(ctx, {
          action: "validation_run.create",
          entity_type: "validation_run",
          entity_id: sql`created.validation_id`,
          org_id: sql`created.org_id`,
          project_id: sql`created.project_id`,
          after: sql`jsonb_build_object('table_id', created.table_id, 'rules', jsonb_array_length(created.rules), 'status', created.status)`,
        }, sql`created`)}
      )
      select jsonb_array_length(target.rules) as rule_count, (select to_jsonb(created) from created) as created from target`,
  ]);
  const row = rows![0] as { rule_count: number; created: ValidationRunRow | null } | undefined;
  if (!row) throw new ApiError("not_found", `Table ${tableId} does not exist.`);
  if (!access.mayChange) throw new ApiError("forbidden", "Your role does not allow this (file:update is required).");
  if (!row.created) throw new ApiError("conflict", "The project has no validation rules: set them with PUT /projects/{project_id}/validation-rules first.");
  const created = row.created;
  try {
    await ctx.config.VALIDATION_QUEUE.send({ kind: "validation", validation_id: created.validation_id } satisfies ValidationMessage, { contentType: "json" });
  } catch (error) {
    ctx.logger.error("could not queue the validation", { validation_id: created.validation_id, ...errorFields(error) });
    await ctx.db.execute(sql`update validation_run set status = 'failed', error = 'The validation could not be queued.', finished_at = now(), updated_at = now()
      where validation_id = ${created.validation_id}`);
    throw new ApiError("service_unavailable", "The validation could not be queued; try again.");
  }
  return presentValidationRun(created);
}

export async function getValidation(ctx: AuthenticatedContext, validationId: number): Promise<ValidationRunView> {
  const result = await ctx.db.execute(sql`select ${RUN_COLUMNS} from ${visibleRun(ctx, validationId)}`);
  const row = result.rows[0] as ValidationRunRow | undefined;
  if (!row) throw runNotFound(validationId);
  if (!fileAccessOf(ctx.principal).mayRead) throw readForbidden();
  return presentValidationRun(row);
}

const VIOLATION_SORT = "violation";

/** The keyset position after a cursor: (row_index, column, rule). */
function positionAfter(cursor: string | undefined): { row_index: number; column: string; rule: string } | null {
  if (!cursor) return null;
  const { value, id } = decodeCursor(cursor, VIOLATION_SORT);
  if (!Array.isArray(value) || value.length !== 2 || !value.every((part) => typeof part === "string" && !part.includes("\u0000"))) {
    throw new ApiError("validation_failed", "The cursor is not valid for this list.", { errors: [{ path: "query.cursor", message: "invalid cursor" }] });
  }
  return { row_index: id, column: value[0] as string, rule: value[1] as string };
}

function pageOf(validationId: SQL, after: ReturnType<typeof positionAfter>, limit: number): SQL {
  const keyset = after ? sql`and (x.row_index, x."column", x.rule) > (${after.row_index}::int, ${after.column}::text, ${after.rule}::text)` : sql``;
  return sql`select x.row_index, x."column", x.rule, x.value from validation_violation x
    where x.validation_id = ${validationId} ${keyset}
    order by x.row_index, x."column", x.rule limit ${limit}`;
}

/** Violations in (row_index, column, rule) order, keyset-paginated: the run (access) and its page in one statement. */
export async function listViolations(ctx: AuthenticatedContext, validationId: number, query: { limit: number; cursor?: string | undefined }): Promise<Page<ViolationView>> {
  const after = positionAfter(query.cursor);
  const result = await ctx.db.execute(sql`
    select r.validation_id, coalesce((select jsonb_agg(to_jsonb(page)) from (${pageOf(sql`r.validation_id`, after, query.limit + 1)}) page), '[]'::jsonb) as page
    from ${visibleRun(ctx, validationId)}`);
  const row = result.rows[0] as { page: ViolationView[] } | undefined;
  if (!row) throw runNotFound(validationId);
  if (!fileAccessOf(ctx.principal).mayRead) throw readForbidden();
  const data = row.page.slice(0, query.limit);
  const last = data.at(-1);
  return { data, next_cursor: row.page.length > query.limit && last ? encodeCursor(VIOLATION_SORT, [last.column, last.rule], last.row_index) : null };
}
