/**
 * Optimistic concurrency and change records for rows with `updated_at`.
 *
 * A row's version is its `updated_at` exactly as Postgres prints it (microseconds
 * included); the ETag encodes that text (lib/etag.ts), and an `If-Match` is checked
 * inside the statement that changes the row, against the row locked by that statement.
 */
import { sql, type SQL } from "drizzle-orm";
import { auditInsert, auditSubjectOf, type AuditSubject } from "./audit.ts";
import { staleVersion, versionFromIfMatch } from "./etag.ts";
import { isTimestampText } from "./query-params.ts";
import type { ServiceContext } from "./service-context.ts";

/**
 * The version an `If-Match` asks for, or null without a precondition. A header that
 * decodes to something other than a timestamp was never issued by us: 412 at once
 * (it must not reach a `::timestamptz` cast and become a 500).
 */
export function ifMatchVersion(header: string | undefined): string | null {
  const version = versionFromIfMatch(header);
  if (version !== null && !isTimestampText(version)) throw staleVersion();
  return version;
}

/** `true` when no precondition was given, else whether the row is still at that version. */
export function versionMatches(updatedAt: SQL, version: string | null): SQL {
  return version === null ? sql`true` : sql`${updatedAt} = ${version}::timestamptz`;
}

/**
 * The audit record's `before` and `after`: only the columns whose values differ between
 * two whole-row references (e.g. the locked `target` row and the `updated` one), keyed
 * by column name. updated_at is left out: it changes every time and says nothing.
 */
export function changedFields(before: string, after: string, ignore: readonly string[] = ["updated_at"]) {
  const old = sql.raw(before);
  const next = sql.raw(after);
  const skip = sql.join(ignore.map((name) => sql`${name}`), sql`, `);
  const diff = (side: SQL) => sql`(select coalesce(jsonb_object_agg(o.key, ${side}), '{}'::jsonb)
    from jsonb_each(to_jsonb(${old})) o join jsonb_each(to_jsonb(${next})) n on n.key = o.key
    where o.value is distinct from n.value and o.key not in (${skip}))`;
  return { before: diff(sql`o.value`), after: diff(sql`n.value`) };
}

/**
 * The `<entity>.update` event of a statement that locked the row as `target` and changed
 * it as `updated`: exactly the fields that changed, and none when nothing was updated.
 */
export function updateAudit(ctx: Pick<ServiceContext, "principal" | "requestId">, subject: AuditSubject): SQL {
  const key = sql.raw(subject.key);
  return auditInsert(
    ctx,
    { action: `${subject.entity}.update`, ...auditSubjectOf(subject, "updated"), ...changedFields("target", "updated") },
    sql`updated join target on target.${key} = updated.${key}`,
  );
}
