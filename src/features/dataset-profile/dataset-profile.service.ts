/**
 * Reading a table's profile: one statement with the file's access check in it. Readable
 * by whoever may read the table's rows (file:read on a visible, live file).
 */
import { sql } from "drizzle-orm";
import { ApiError } from "../../lib/errors.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { fileAccessOf } from "../parsing/parsing.service.ts";
import type { TableProfileView } from "./dataset-profile.presenters.ts";
import type { TableProfile } from "./profile-builder.ts";

type StoredProfile = TableProfile & { duplicate_rows: number };

export async function getTableProfile(ctx: AuthenticatedContext, tableId: number, access = fileAccessOf(ctx.principal)): Promise<TableProfileView> {
  const result = await ctx.db.execute(sql`
    select t.table_id, t.profile
    from file_table t
    join file_version v on v.version_id = t.version_id
    join file f on f.file_id = v.file_id
    join project p on p.project_id = f.project_id and p.deleted_at is null
    where t.table_id = ${tableId} and t.state <> 'building' and f.deleted_at is null and ${access.visible("f")}`);
  const row = result.rows[0] as { table_id: number; profile: StoredProfile | null } | undefined;
  if (!row) throw new ApiError("not_found", `Table ${tableId} does not exist.`);
  if (!access.mayRead) throw new ApiError("forbidden", "Your role does not allow this (file:read is required).");
  if (!row.profile) throw new ApiError("conflict", `Table ${tableId} has no profile (it was parsed before profiles existed); reparse its version.`);
  const { row_count, duplicate_rows, empty_rows, columns } = row.profile;
  return { table_id: row.table_id, row_count, duplicate_rows, empty_rows, columns: columns as TableProfileView["columns"] };
}
