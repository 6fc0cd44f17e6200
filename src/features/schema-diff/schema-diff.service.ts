/**
 * A version's schema against the previous one: one statement reads the version (with
 * the file's access check), its active tables, and those of the newest earlier version
 * of the same file that has parsed tables (a version whose parse failed has no schema to
 * compare with, so it is skipped).
 */
import { sql } from "drizzle-orm";
import { ApiError } from "../../lib/errors.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { fileAccessOf } from "../parsing/parsing.service.ts";
import { diffSchemas, type SchemaTable } from "./schema-diff.ts";
import type { SchemaDiffView } from "./schema-diff.presenters.ts";

const TABLES_OF = (version: string) => sql`coalesce((
    select jsonb_agg(jsonb_build_object('table_id', t.table_id, 'name', t.name, 'columns', t.columns) order by t.position)
    from file_table t where t.version_id = ${sql.raw(version)}.version_id and t.state = 'active'), '[]'::jsonb)`;

type DiffRow = {
  version_id: number;
  version_number: number | null;
  parse_status: string | null;
  tables: SchemaTable[];
  previous_version_id: number | null;
  previous_version_number: number | null;
  previous_tables: SchemaTable[] | null;
};

export async function getSchemaDiff(ctx: AuthenticatedContext, versionId: number, access = fileAccessOf(ctx.principal)): Promise<SchemaDiffView> {
  const result = await ctx.db.execute(sql`
    with target as (
      select v.version_id, v.file_id, v.version_number, v.parse_status
      from file_version v
      join file f on f.file_id = v.file_id
      join project p on p.project_id = f.project_id and p.deleted_at is null
      where v.version_id = ${versionId} and f.deleted_at is null and ${access.visible("f")}
    ), previous as (
      select pv.version_id, pv.version_number
      from target join file_version pv on pv.file_id = target.file_id and pv.version_number < target.version_number
      where exists (select 1 from file_table t where t.version_id = pv.version_id and t.state = 'active')
      order by pv.version_number desc limit 1
    )
    select target.version_id, target.version_number, target.parse_status, ${TABLES_OF("target")} as tables,
      previous.version_id as previous_version_id, previous.version_number as previous_version_number,
      case when previous.version_id is null then null else ${TABLES_OF("previous")} end as previous_tables
    from target left join previous on true`);
  const row = result.rows[0] as DiffRow | undefined;
  if (!row) throw new ApiError("not_found", `File version ${versionId} does not exist.`);
  if (!access.mayRead) throw new ApiError("forbidden", "Your role does not allow this (file:read is required).");
  if (row.parse_status !== "succeeded" || row.tables.length === 0) {
    throw new ApiError("conflict", `File version ${versionId} has no parsed tables yet (parse_status ${row.parse_status ?? "none"}); its schema is known once its parse succeeds.`);
  }
  return {
    version_id: row.version_id,
    version_number: row.version_number!,
    previous_version_id: row.previous_version_id,
    previous_version_number: row.previous_version_number,
    tables: diffSchemas(row.tables, row.previous_tables ?? []),
  };
}
