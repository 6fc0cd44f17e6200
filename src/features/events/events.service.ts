import { sql } from "drizzle-orm";
import { eventVisible } from "../../lib/access.ts";
import { ApiError } from "../../lib/errors.ts";
import { toPage, type Page } from "../../lib/pagination.ts";
import { typedKeyset } from "../../lib/query-params.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { can } from "../auth/principal.ts";
import { presentEvent, type EventRow, type EventView } from "./events.presenters.ts";

export type ListEventsQuery = {
  limit: number;
  cursor?: string | undefined;
  entity_type?: string | undefined;
  entity_id?: number | undefined;
  actor_id?: number | undefined;
  action?: string | undefined;
  project_id?: number | undefined;
  since?: string | undefined;
  until?: string | undefined;
};

// Newest first, by event_id alone: ids are assigned in commit-ish order and never reused,
// so the order is total without a second key.
const SORT = "-id";

export async function listEvents(ctx: AuthenticatedContext, query: ListEventsQuery): Promise<Page<EventView>> {
  if (!can(ctx.principal, "event:read")) throw new ApiError("forbidden", "Your role does not allow this (event:read is required).");
  const page = typedKeyset(SORT, { id: { sql: sql`e.event_id`, kind: "integer" } }, sql`e.event_id`, query.cursor, "bigint");
  const conditions = [
    eventVisible(ctx.principal, "e"),
    query.entity_type === undefined ? sql`true` : sql`e.entity_type = ${query.entity_type}`,
    query.entity_id === undefined ? sql`true` : sql`e.entity_id = ${query.entity_id}::bigint`,
    query.actor_id === undefined ? sql`true` : sql`e.actor_id = ${query.actor_id}::integer`,
    query.action === undefined ? sql`true` : sql`e.action = ${query.action}`,
    query.project_id === undefined ? sql`true` : sql`e.project_id = ${query.project_id}::integer`,
    query.since === undefined ? sql`true` : sql`e.created_at >= ${query.since}::timestamptz`,
    query.until === undefined ? sql`true` : sql`e.created_at < ${query.until}::timestamptz`,
    page.where,
  ];
  const result = await ctx.db.execute(sql`select e.event_id, e.org_id, e.project_id, e.actor_id, e.actor_kind, e.action,
      e.entity_type, e.entity_id, e.before, e.after, e.request_id, e.created_at
    from event_log e where ${sql.join(conditions, sql` and `)}
    order by ${page.orderBy} limit ${query.limit + 1}`);
  const rows = result.rows as EventRow[];
  return toPage(rows, query.limit, SORT, (row) => ({ value: null, id: Number(row.event_id) }), presentEvent);
}
