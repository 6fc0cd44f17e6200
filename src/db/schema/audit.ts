/**
 * The audit trail and the Idempotency-Key store.
 */
import { sql } from "drizzle-orm";
import { bigint, check, index, integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { bigIdentityKey, createdAt, timestamptz } from "./columns.ts";
import { actorKind, idempotencyStatus } from "./enums.ts";
import { organization, user } from "./identity.ts";
import { project } from "./projects.ts";

/**
 * One row per mutation, written in the same statement or batch as the change.
 * Events outlive what they describe: entity_id carries no foreign key, and the
 * references that scope visibility (org_id, project_id) or name the actor are SET NULL,
 * so hard-deleting a user or a project never deletes history. event_id is bigint:
 * this table grows with traffic, not with customers.
 */
export const eventLog = pgTable(
  "event_log",
  {
    event_id: bigIdentityKey(),
    // Tenant the event belongs to (visibility of GET /events); NULL for platform-wide events.
    org_id: integer().references(() => organization.org_id, { onDelete: "set null" }),
    project_id: integer().references(() => project.project_id, { onDelete: "set null" }),
    actor_id: integer().references(() => user.user_id, { onDelete: "set null" }),
    actor_kind: actorKind().notNull().default("user"),
    // `<entity_type>.<verb>`, e.g. project.create, annotation_job.update, file_version.reparse.
    action: text().notNull(),
    // A table name: project, file, file_version, annotation_job, …
    entity_type: text().notNull(),
    entity_id: bigint({ mode: "number" }).notNull(),
    // Changed fields only: before holds their old values, after their new ones.
    before: jsonb().$type<Record<string, unknown>>(),
    after: jsonb().$type<Record<string, unknown>>(),
    request_id: text(),
    created_at: createdAt(),
  },
  (t) => [
    index("event_log_entity_type_entity_id_idx").on(t.entity_type, t.entity_id, t.event_id),
    index("event_log_actor_id_idx").on(t.actor_id, t.event_id),
    index("event_log_org_id_idx").on(t.org_id, t.event_id),
    index("event_log_project_id_idx").on(t.project_id, t.event_id),
    index("event_log_action_idx").on(t.action, t.event_id),
    index("event_log_created_at_idx").on(t.created_at),
    check("event_log_action_shape", sql`${t.action} ~ '^[a-z][a-z_]*\\.[a-z][a-z_]*$'`),
  ],
);

/**
 * A POST's first response, replayed for 24 h. `caller` is whoever the key belongs to,
 * e.g. `user:42` (access JWT and API tokens alike) or, for unauthenticated endpoints,
 * `anonymous:<client fingerprint>`; keys are private to their caller. `request_hash`
 * covers method, path and body: the same key with a different hash is a 422.
 * No foreign key: rows expire on their own and are swept by `expires_at`.
 */
export const idempotencyKey = pgTable(
  "idempotency_key",
  {
    caller: text().notNull(),
    key: text().notNull(),
    method: text().notNull(),
    path: text().notNull(),
    request_hash: text().notNull(),
    status: idempotencyStatus().notNull().default("in_progress"),
    response_status: integer(),
    response_headers: jsonb().$type<Record<string, string>>(),
    response_body: jsonb().$type<unknown>(),
    created_at: createdAt(),
    expires_at: timestamptz()
      .notNull()
      .default(sql`now() + interval '24 hours'`),
  },
  (t) => [
    primaryKey({ columns: [t.caller, t.key] }),
    index("idempotency_key_expires_at_idx").on(t.expires_at),
    check("idempotency_key_key_length", sql`char_length(${t.key}) BETWEEN 1 AND 255`),
    check(
      "idempotency_key_completed_has_response",
      sql`${t.status} <> 'completed' OR (${t.response_status} IS NOT NULL AND ${t.response_status} BETWEEN 100 AND 599)`,
    ),
    check("idempotency_key_expires_after_creation", sql`${t.expires_at} > ${t.created_at}`),
  ],
);
