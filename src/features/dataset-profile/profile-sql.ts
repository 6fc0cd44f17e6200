import { sql, type SQL } from "drizzle-orm";

/**
 * The stored profile of the table aliased `table` from the computed one in `profile`
 * (jsonb, or null when the parse kept no profile), with duplicate_rows counted exactly
 * over the rows just stored: rows minus distinct rows, rows compared by the MD5 of their
 * canonical jsonb text (a collision would take 2^64 rows to be likely). This runs in the
 * parse's finishing statement: one scan of the table and a sort of 16-byte keys that
 * Postgres spills to disk past work_mem, so the Worker's memory stays constant and no
 * sketch error applies; cheaper and exact where a streaming row-hash set would either
 * grow with the table or estimate.
 */
export function storedProfile(profile: SQL, table: string): SQL {
  return sql`case when ${profile} is null then null else ${profile} || jsonb_build_object('duplicate_rows', (
    select count(*) - count(distinct md5(r.data::text)::uuid) from file_table_row r where r.table_id = ${sql.raw(table)}.table_id)) end`;
}
