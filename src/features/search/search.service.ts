/**
 * `GET /search`: projects, files, jobs and comments the caller may read, matching `q`,
 * ranked together, in one statement. Each kind is its own branch with the caller's access
 * predicate (the ones the kind's own list applies: lib/access.ts) and the permission that
 * list needs; every branch takes its own best `limit + 1` after the cursor, so the union
 * never ranks more than 4 × (limit + 1) rows. The vectors are the expression indexes'
 * (src/db/schema: `*_search_idx`), in English: these texts have no language of their own.
 */
import { sql, type SQL } from "drizzle-orm";
import { fileVisible, jobVisible, projectVisible } from "../../lib/access.ts";
import { decodeCursor, encodeCursor, invalidCursor, type Page } from "../../lib/pagination.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { can, type Principal } from "../auth/principal.ts";
import type { PermissionName } from "../../db/seed/catalog.ts";

export const SEARCH_KINDS = ["project", "file", "job", "comment"] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];

/**
 * The text each kind is searched by, exactly as its expression index is declared (the
 * planner only uses an index whose expression the query repeats).
 */
export const SEARCH_VECTORS: Record<SearchKind, (alias: string) => SQL> = {
  project: (a) => sql.raw(`to_tsvector('english'::regconfig, ${a}.name || ' ' || coalesce(${a}.description, ''))`),
  file: (a) => sql.raw(`to_tsvector('english'::regconfig, ${a}.filename)`),
  job: (a) => sql.raw(`to_tsvector('english'::regconfig, ${a}.name || ' ' || coalesce(${a}.instructions, ''))`),
  comment: (a) => sql.raw(`to_tsvector('english'::regconfig, ${a}.body)`),
};

type Position = { rank: string; kind: number; id: number };

const POSITION_TEXT = /^(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\/([0-3])$/i;

function decodePosition(cursor: string | undefined): Position | null {
  if (!cursor) return null;
  const { value, id } = decodeCursor(cursor, "search");
  const match = typeof value === "string" ? POSITION_TEXT.exec(value) : null;
  if (!match) throw invalidCursor();
  return { rank: match[1]!, kind: Number(match[2]), id };
}

type Branch = { kind: SearchKind; permission: PermissionName; from: SQL; visible: SQL; vector: SQL; id: SQL; projectId: SQL; jobId: SQL; title: SQL };

function branches(principal: Principal): Branch[] {
  return [
    {
      kind: "project", permission: "project:read", from: sql`project p`, vector: SEARCH_VECTORS.project("p"),
      visible: sql`p.deleted_at is null and ${projectVisible(principal, "p")}`,
      id: sql`p.project_id`, projectId: sql`p.project_id`, jobId: sql`null::integer`, title: sql`p.name`,
    },
    {
      kind: "file", permission: "file:read", from: sql`file f join project fp on fp.project_id = f.project_id`, vector: SEARCH_VECTORS.file("f"),
      visible: sql`f.deleted_at is null and fp.deleted_at is null and ${fileVisible(principal, "f")}`,
      id: sql`f.file_id`, projectId: sql`f.project_id`, jobId: sql`null::integer`, title: sql`f.filename`,
    },
    {
      kind: "job", permission: "job:read", from: sql`annotation_job j join project jp on jp.project_id = j.project_id`, vector: SEARCH_VECTORS.job("j"),
      visible: sql`j.deleted_at is null and jp.deleted_at is null and ${jobVisible(principal, "j", "jp")}`,
      id: sql`j.job_id`, projectId: sql`j.project_id`, jobId: sql`j.job_id`, title: sql`j.name`,
    },
    {
      kind: "comment", permission: "comment:read",
      from: sql`comment c join annotation_job cj on cj.job_id = c.job_id join project cp on cp.project_id = cj.project_id`,
      vector: SEARCH_VECTORS.comment("c"),
      visible: sql`c.deleted_at is null and cj.deleted_at is null and cp.deleted_at is null and ${jobVisible(principal, "cj", "cp")}`,
      id: sql`c.comment_id`, projectId: sql`cj.project_id`, jobId: sql`c.job_id`, title: sql`left(c.body, 200)`,
    },
  ];
}

type ResultRow = { kind: number; id: number; project_id: number; job_id: number | null; title: string; rank: number; rank_text: string };

export async function searchEverything(
  ctx: AuthenticatedContext,
  query: { q: string; type?: SearchKind | undefined; limit: number; cursor?: string | undefined },
): Promise<Page<{ type: SearchKind; id: number; project_id: number; job_id: number | null; title: string; rank: number }>> {
  const position = decodePosition(query.cursor);
  const selected = branches(ctx.principal).filter((branch) => (query.type === undefined || branch.kind === query.type) && can(ctx.principal, branch.permission));
  if (selected.length === 0) return { data: [], next_cursor: null };
  const parts = selected.map((branch) => {
    const kind = SEARCH_KINDS.indexOf(branch.kind);
    const rank = sql`ts_rank(${branch.vector}, sq.query)`;
    const after = position
      ? sql`and (${rank} < ${position.rank}::real or (${rank} = ${position.rank}::real
          and (${kind}::integer > ${position.kind}::integer or (${kind}::integer = ${position.kind}::integer and ${branch.id} > ${position.id}::integer))))`
      : sql``;
    return sql`(select ${kind}::integer as kind, ${branch.id} as id, ${branch.projectId} as project_id, ${branch.jobId} as job_id,
        ${branch.title} as title, ${rank} as rank
      from ${branch.from}, sq
      where ${branch.vector} @@ sq.query and ${branch.visible} ${after}
      order by rank desc, id limit ${query.limit + 1})`;
  });
  const result = await ctx.db.execute(sql`with sq as (select websearch_to_tsquery('english'::regconfig, ${query.q}::text) as query)
    select found.*, found.rank::text as rank_text from (${sql.join(parts, sql` union all `)}) found
    order by found.rank desc, found.kind, found.id limit ${query.limit + 1}`);
  const rows = result.rows as ResultRow[];
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    data: page.map((row) => ({ type: SEARCH_KINDS[row.kind]!, id: row.id, project_id: row.project_id, job_id: row.job_id, title: row.title, rank: Number(row.rank) })),
    next_cursor: rows.length > query.limit && last ? encodeCursor("search", `${last.rank_text}/${last.kind}`, last.id) : null,
  };
}
