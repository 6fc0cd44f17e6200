/**
 * Soft delete and restore of one row, each a single statement: the row as the caller
 * may see it is locked as `target`, changed only if the change applies, and audited in
 * the same statement, so the change and its event commit together or not at all. One
 * answer row tells "not there for you" (404), a refusal and success apart.
 */
import { sql, type SQL } from "drizzle-orm";
import { auditInsert, auditSubjectOf, type AuditSubject } from "./audit.ts";
import { ApiError } from "./errors.ts";
import { staleVersion } from "./etag.ts";
import { versionMatches } from "./row-version.ts";
import type { ServiceContext } from "./service-context.ts";
import { runWrite, type Row } from "./write.ts";

/** A table whose rows are deleted by setting `deleted_at`, and versioned by `updated_at`. */
export type SoftDeletable = AuditSubject & {
  /** The table as SQL names it, e.g. `"user"`. */
  table: string;
  /** The row's alias in these statements: the `target` SELECT a caller passes uses it. */
  alias: string;
  /** What a statement may read back of a changed row; every column unless some must never leave the table. */
  columns?: (alias: string) => SQL;
};

type SoftDeleteAnswer = { found: boolean; deletable: boolean | null; changed: boolean };
type RestoreAnswer = { found: boolean; changed: boolean };

function returnedColumns(table: SoftDeletable): SQL {
  return table.columns ? table.columns(table.alias) : sql.raw(`${table.alias}.*`);
}

function keyMatch(table: SoftDeletable): SQL {
  return sql.raw(`${table.alias}.${table.key} = target.${table.key}`);
}

export type SoftDeleteRequest = {
  /** The live row as the caller may see it: a SELECT from the table under its alias; the statement locks it. */
  target: SQL;
  /** The version If-Match asks for (null: none); a stale one changes nothing and answers 412. */
  version: string | null;
  /** Details of the answers: no such row for the caller (404) … */
  notFound: string;
  /** … and, where some rows may never be deleted, the condition on `target` and the 409's detail. */
  deletable?: { holds: SQL; refusal: string };
  /**
   * Changes that go with the delete (e.g. revoking a user's credentials): further CTEs
   * reading `deleted`, and a jsonb object of what they did, for the audit event's `after`.
   */
  consequences?: { ctes: SQL; summary: SQL };
  /** Further assignments of the deleting UPDATE itself (a row may be updated once per statement). */
  alsoSet?: SQL;
};

export async function softDelete(ctx: ServiceContext, table: SoftDeletable, request: SoftDeleteRequest): Promise<void> {
  const alias = sql.raw(table.alias);
  const deletable = request.deletable?.holds ?? sql`true`;
  const { consequences } = request;
  const deletedAt = sql`jsonb_build_object('deleted_at', deleted.deleted_at)`;
  const [rows = []] = await runWrite(ctx, [
    sql`with target as (
        ${request.target} for update of ${alias}
      ), deleted as (
        update ${sql.raw(table.table)} ${alias} set deleted_at = now(), updated_at = now()${request.alsoSet ? sql`, ${request.alsoSet}` : sql``}
        from target where ${keyMatch(table)} and ${deletable} and ${versionMatches(sql`target.updated_at`, request.version)}
        returning ${returnedColumns(table)}
      )${consequences ? sql`, ${consequences.ctes}` : sql``}, audited as (
        ${auditInsert(ctx, {
          action: `${table.entity}.delete`,
          ...auditSubjectOf(table, "deleted"),
          before: sql`jsonb_build_object('deleted_at', null)`,
          after: consequences ? sql`${deletedAt} || ${consequences.summary}` : deletedAt,
        }, sql`deleted`)}
      )
      select exists (select 1 from target) as found, (select ${deletable} from target) as deletable,
        exists (select 1 from deleted) as changed`,
  ]);
  const answer = rows[0] as SoftDeleteAnswer;
  if (!answer.found) throw new ApiError("not_found", request.notFound);
  if (request.deletable && !answer.deletable) throw new ApiError("conflict", request.deletable.refusal);
  if (!answer.changed) throw staleVersion();
}

export type RestoreRequest = {
  /** The row as the caller may see it, deleted or not: a SELECT from the table under its alias; the statement locks it. */
  target: SQL;
  /** The restored row's columns for the answer, on the table's alias. */
  answer: SQL;
  /** Details of the answers: no such row for the caller (404), and the row is not deleted (409). */
  notFound: string;
  notDeleted: string;
};

/** Undoes a soft delete; answers with the restored row as `answer` selects it. */
export async function restore<T extends Row>(ctx: ServiceContext, table: SoftDeletable, request: RestoreRequest): Promise<T> {
  const alias = sql.raw(table.alias);
  const [rows = []] = await runWrite(ctx, [
    sql`with target as (
        ${request.target} for update of ${alias}
      ), restored as (
        update ${sql.raw(table.table)} ${alias} set deleted_at = null, updated_at = now()
        from target where ${keyMatch(table)} and target.deleted_at is not null
        returning ${returnedColumns(table)}, target.deleted_at as was_deleted_at
      ), audited as (
        ${auditInsert(ctx, {
          action: `${table.entity}.restore`,
          ...auditSubjectOf(table, "restored"),
          before: sql`jsonb_build_object('deleted_at', restored.was_deleted_at)`,
          after: sql`jsonb_build_object('deleted_at', null)`,
        }, sql`restored`)}
      )
      select exists (select 1 from target) as found, exists (select 1 from restored) as changed, ${request.answer}
      from (select 1) as anchor left join restored ${alias} on true`,
  ]);
  const row = rows[0] as T & RestoreAnswer;
  if (!row.found) throw new ApiError("not_found", request.notFound);
  if (!row.changed) throw new ApiError("conflict", request.notDeleted);
  return row;
}
