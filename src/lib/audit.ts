import { sql, type SQL } from "drizzle-orm";
import { sqlValue, type SqlValue } from "./sql-values.ts";
import type { ServiceContext } from "./service-context.ts";

export type AuditEvent = {
  /** `<entity_type>.<verb>`, e.g. `project.update`. */
  action: string;
  entity_type: string;
  entity_id: SqlValue;
  org_id?: SqlValue;
  project_id?: SqlValue;
  /** Changed fields only: their old values … */
  before?: SqlValue;
  /** … and their new ones. */
  after?: SqlValue;
};

/**
 * What a table's audit events are about: the entity type, the key column (the event's
 * entity_id) and the columns that place the row in an organization and, for rows of a
 * project, in that project.
 */
export type AuditSubject = {
  entity: string;
  key: string;
  scope: readonly ("org_id" | "project_id")[];
};

/** An event's entity_type, entity_id, org_id and project_id, read from the row `row` (an alias or CTE name). */
export function auditSubjectOf(subject: AuditSubject, row: string): Pick<AuditEvent, "entity_type" | "entity_id" | "org_id" | "project_id"> {
  const column = (name: string) => sql.raw(`${row}.${name}`);
  return {
    entity_type: subject.entity,
    entity_id: column(subject.key),
    ...Object.fromEntries(subject.scope.map((name) => [name, column(name)])),
  };
}

/**
 * The event_log INSERT for a mutation, to run in the same statement (as a CTE) or the
 * same batch as the change itself, so a change and its audit row commit together or
 * not at all. Values may be SQL referring to `from` (e.g. a CTE's RETURNING columns);
 * with `from`, one event is written per row it yields (none when the change touched
 * nothing).
 */
export function auditInsert(ctx: Pick<ServiceContext, "principal" | "requestId">, event: AuditEvent, from?: SQL): SQL {
  const actorId = ctx.principal?.user_id ?? null;
  const actorKind = ctx.principal ? (ctx.principal.credential.kind === "api_token" ? "api_token" : "user") : "system";
  return sql`insert into event_log (org_id, project_id, actor_id, actor_kind, action, entity_type, entity_id, before, after, request_id)
    select ${sqlValue(event.org_id)}::integer, ${sqlValue(event.project_id)}::integer, ${actorId}::integer,
      ${actorKind}::actor_kind, ${event.action}::text, ${event.entity_type}::text, ${sqlValue(event.entity_id)}::bigint,
      ${sqlValue(event.before)}::jsonb, ${sqlValue(event.after)}::jsonb, ${ctx.requestId}::text
    ${from ? sql`from ${from}` : sql``}`;
}
