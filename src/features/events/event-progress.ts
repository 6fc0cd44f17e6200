/**
 * What the live stream reports as `event: progress`: long-running work whose progress
 * its queue consumer keeps in a row (file_version.parse_progress_*, export_log.progress_*).
 * The hub (event-hub.ts) starts following an entity when it sees an event about it (an
 * upload completing, a reparse, an export requested) and reads the rows of everything it
 * follows in its per-tick batch, each subscriber's visibility evaluated in the query, until
 * the work ends. The consumers change nothing for it.
 *
 * Drafts (pre-annotation runs, not built yet) plug in here: one more source naming their
 * entity_type, their progress columns and who may see them.
 */
import { sql, type SQL } from "drizzle-orm";
import { fileVisible, projectMemberVisible } from "../../lib/access.ts";
import type { Principal } from "../auth/principal.ts";

export type ProgressKind = "parse" | "export";

export type ProgressView = {
  kind: ProgressKind;
  /** version_id for a parse, export_id for an export. */
  id: number;
  done: number;
  total: number | null;
  status: string | null;
  project_id: number;
};

export type ProgressSource = {
  kind: ProgressKind;
  /** Events about this entity type start the following. */
  entityType: string;
  /** The progress of `ids`, with one boolean per principal: may it see this row. */
  query(ids: number[], audience: Principal[]): SQL;
  /** The ids of the work running now (followed from a hub's start). */
  running: SQL;
  finished(status: string | null): boolean;
};

const ended = (status: string | null) => status !== "queued" && status !== "running";

function flags(audience: Principal[], visible: (principal: Principal) => SQL): SQL {
  return sql`array[${sql.join(audience.map((principal) => sql`(${visible(principal)})`), sql`, `)}]::boolean[]`;
}

export const PROGRESS_SOURCES: ProgressSource[] = [
  {
    kind: "parse",
    entityType: "file_version",
    query: (ids, audience) => sql`select 'parse' as kind, v.version_id as id, v.parse_progress_done as done, v.parse_progress_total as total,
        v.parse_status as status, f.project_id, ${flags(audience, (principal) => fileVisible(principal, "f"))} as audience
      from file_version v join file f on f.file_id = v.file_id
      where v.version_id = any(${`{${ids.join(",")}}`}::int[])`,
    running: sql`select version_id as id from file_version where parse_status in ('queued', 'running')`,
    finished: ended,
  },
  {
    kind: "export",
    entityType: "export_log",
    query: (ids, audience) => sql`select 'export' as kind, x.export_id as id, x.progress_done as done, x.progress_total as total,
        x.status, x.project_id, ${flags(audience, (principal) => projectMemberVisible(principal, sql`x.project_id`))} as audience
      from export_log x
      where x.export_id = any(${`{${ids.join(",")}}`}::int[])`,
    running: sql`select export_id as id from export_log where status in ('queued', 'running')`,
    finished: ended,
  },
];
