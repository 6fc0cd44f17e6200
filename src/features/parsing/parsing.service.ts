/**
 * What the HTTP API does with parsed files: list a version's tables, page through a
 * table's rows, request a reparse. Access is a parameter (which files the caller may
 * see, and whether it may change them), defaulting to the access policy; each function
 * is one statement, its access check inside it. A file is reachable only while it and
 * its project are live: a soft-deleted project hides its files' tables, rows and
 * reparse (404), as it hides the files themselves (files.service.ts).
 */
import { sql, type SQL } from "drizzle-orm";
import type { ParseMessage } from "../../queues/messages.ts";
import { fileVisible } from "../../lib/access.ts";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import { decodeCursor, encodeCursor, type Page } from "../../lib/pagination.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { runWrite } from "../../lib/write.ts";
import { can, type Principal } from "../auth/principal.ts";
import { presentFileVersion, type FileVersionRow, type FileVersionView } from "../files/files.presenters.ts";
import { afterRank, decodeRankCursor, encodeRankCursor, searchQuery } from "../search/text-search.ts";
import { failParse, systemActor } from "./parse-job.service.ts";
import { presentFileTable, type FileTableRow, type FileTableRowView, type FileTableView } from "./parsing.presenters.ts";

export type FileAccess = {
  /** SQL predicate: the caller may see the file aliased `alias`. */
  visible: (alias: string) => SQL;
  mayRead: boolean;
  /** May request a reparse (file:update). */
  mayChange: boolean;
};

export function fileAccessOf(principal: Principal): FileAccess {
  return {
    visible: (alias) => fileVisible(principal, alias),
    mayRead: can(principal, "file:read"),
    mayChange: can(principal, "file:update"),
  };
}

const VERSION_NOT_FOUND = (versionId: number) => new ApiError("not_found", `File version ${versionId} does not exist.`);
const TABLE_NOT_FOUND = (tableId: number) => new ApiError("not_found", `Table ${tableId} does not exist.`);
const FORBIDDEN = new ApiError("forbidden", "Your role does not allow this (file:read is required).");

/** The version's current tables, in sheet order; empty while the first parse runs or after it failed. */
export async function listTables(ctx: AuthenticatedContext, versionId: number, access = fileAccessOf(ctx.principal)): Promise<{ data: FileTableView[] }> {
  const result = await ctx.db.execute(sql`
    select t.table_id, t.name, t.columns, t.row_count
    from file_version v
    join file f on f.file_id = v.file_id
    join project p on p.project_id = f.project_id and p.deleted_at is null
    left join file_table t on t.version_id = v.version_id and t.state = 'active'
    where v.version_id = ${versionId} and f.deleted_at is null and ${access.visible("f")}
    order by t.position`);
  const rows = result.rows as (FileTableRow | { table_id: null })[];
  if (rows.length === 0) throw VERSION_NOT_FOUND(versionId);
  if (!access.mayRead) throw FORBIDDEN;
  return { data: rows.filter((row): row is FileTableRow => row.table_id !== null).map(presentFileTable) };
}

/**
 * Rows in row_index order, the cursor the last row_index returned, so pages never shift;
 * with `q`, only matching rows, by rank then row_index, the cursor (rank, row_index).
 */
export async function listRows(
  ctx: AuthenticatedContext,
  tableId: number,
  query: { limit: number; cursor?: string | undefined; q?: string | undefined },
  access = fileAccessOf(ctx.principal),
): Promise<Page<FileTableRowView>> {
  const ranked = query.q !== undefined;
  const after = !ranked && query.cursor ? Number(decodeCursor(query.cursor, "row_index").id) : -1;
  const position = ranked ? decodeRankCursor(query.cursor) : null;
  const page = ranked
    ? sql`select x.row_index, x.data, x.rank, x.rank::text as rank_text from (
        select row_index, data, ts_rank(search, tq.query) as rank
        from file_table_row, (select ${searchQuery(sql`t.search_config::regconfig`, query.q!)} as query) tq
        where table_id = t.table_id and search @@ tq.query
      ) x where ${afterRank(sql`x.rank`, sql`x.row_index`, position)}
      order by x.rank desc, x.row_index limit ${query.limit + 1}`
    : sql`select row_index, data, null::real as rank, null as rank_text from file_table_row
      where table_id = t.table_id and row_index > ${after}
      order by row_index limit ${query.limit + 1}`;
  const result = await ctx.db.execute(sql`
    select r.row_index, r.data, r.rank_text
    from file_table t
    join file_version v on v.version_id = t.version_id
    join file f on f.file_id = v.file_id
    join project p on p.project_id = f.project_id and p.deleted_at is null
    left join lateral (${page}) r on true
    where t.table_id = ${tableId} and t.state <> 'building' and f.deleted_at is null and ${access.visible("f")}
    order by r.rank desc nulls last, r.row_index`);
  const rows = result.rows as ({ row_index: number; data: Record<string, unknown>; rank_text: string | null } | { row_index: null })[];
  if (rows.length === 0) throw TABLE_NOT_FOUND(tableId);
  if (!access.mayRead) throw FORBIDDEN;
  const found = rows.filter((row) => row.row_index !== null) as { row_index: number; data: Record<string, unknown>; rank_text: string | null }[];
  const shown = found.slice(0, query.limit);
  const last = shown.at(-1);
  const next = found.length > query.limit && last
    ? ranked ? encodeRankCursor(last.rank_text!, last.row_index) : encodeCursor("row_index", null, last.row_index)
    : null;
  return { data: shown.map((row) => ({ row_index: row.row_index, data: row.data })), next_cursor: next };
}

/**
 * Starts a new parse generation: the version goes back to queued and a message for the
 * new generation is sent. Tables of the current generation stay readable until the new
 * parse swaps its own in (or fails, leaving them). A parse still running is superseded:
 * its remaining messages are recognised by their generation and dropped.
 */
export async function requestReparse(
  ctx: AuthenticatedContext,
  versionId: number,
  parseQueue: Queue<ParseMessage>,
  access = fileAccessOf(ctx.principal),
): Promise<FileVersionView> {
  const [rows] = await runWrite(ctx, [
    sql`with target as (
        select v.version_id, v.status, v.parse_status, v.parse_generation, f.org_id, f.project_id
        from file_version v join file f on f.file_id = v.file_id
          join project p on p.project_id = f.project_id and p.deleted_at is null
        where v.version_id = ${versionId} and f.deleted_at is null and ${access.visible("f")}
      ), bumped as (
        update file_version v set parse_generation = v.parse_generation + 1, parse_status = 'queued', parse_error = null,
          parse_cursor = null, parse_progress_done = 0, parse_progress_total = null, updated_at = now()
        from target
        where v.version_id = target.version_id and ${access.mayChange} and target.status = 'ready'
        returning v.*
      ), audited as (
        ${auditInsert(ctx, {
          action: "file_version.reparse",
          entity_type: "file_version",
          entity_id: sql`bumped.version_id`,
          org_id: sql`target.org_id`,
          project_id: sql`target.project_id`,
          before: sql`jsonb_build_object('parse_status', target.parse_status, 'parse_generation', target.parse_generation)`,
          after: sql`jsonb_build_object('parse_status', bumped.parse_status, 'parse_generation', bumped.parse_generation)`,
        }, sql`bumped join target on target.version_id = bumped.version_id`)}
      )
      select target.status as upload_status, (select row_to_json(bumped) from bumped) as version from target`,
  ]);
  const row = rows![0] as { upload_status: string; version: (FileVersionRow & { parse_generation: number }) | null } | undefined;
  if (!row) throw VERSION_NOT_FOUND(versionId);
  if (!access.mayChange) throw new ApiError("forbidden", "Your role does not allow this (file:update is required).");
  if (!row.version) throw new ApiError("conflict", `File version ${versionId} has no completed upload yet; there is nothing to parse.`);

  const generation = row.version.parse_generation;
  try {
    await parseQueue.send({ kind: "parse", version_id: versionId, generation }, { contentType: "json" });
  } catch (error) {
    // Without its message the version would stay queued for ever: say so on the version.
    await failParse(ctx.db, versionId, generation, "The reparse could not be queued; request it again.", systemActor(ctx.requestId));
    ctx.logger.error("reparse message not sent", { version_id: versionId, error: (error as Error).message });
    throw new ApiError("service_unavailable", "The reparse could not be queued; try again.");
  }
  return presentFileVersion(row.version);
}
