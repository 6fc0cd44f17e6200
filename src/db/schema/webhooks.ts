/**
 * Webhooks (README "Webhooks"): an organization's endpoints, the deliveries of its
 * events to them, and the dispatcher's settled horizon over event_log.
 */
import { sql } from "drizzle-orm";
import { bigint, check, index, integer, pgTable, smallint, text, unique, boolean } from "drizzle-orm/pg-core";
import { bigIdentityKey, createdAt, identityKey, timestamptz, updatedAt } from "./columns.ts";
import { organization, user } from "./identity.ts";

/**
 * An endpoint. The signing secret is kept encrypted (AES-GCM under WEBHOOK_SECRET_KEY),
 * not hashed: signing needs its raw bytes. cursor_event_id is the outbox cursor: every
 * settled event up to it has its delivery row (or did not match).
 */
export const webhook = pgTable(
  "webhook",
  {
    webhook_id: identityKey(),
    org_id: integer()
      .notNull()
      .references(() => organization.org_id, { onDelete: "cascade" }),
    url: text().notNull(),
    // Event actions (`project.create`) or entity types (`project`); empty = every event.
    events: text().array().notNull().default(sql`'{}'::text[]`),
    active: boolean().notNull().default(true),
    secret_encrypted: text().notNull(),
    secret_prefix: text().notNull(),
    cursor_event_id: bigint({ mode: "number" }).notNull().default(0),
    // Failed attempts in a row, and since when the endpoint has failed without a success.
    consecutive_failures: integer().notNull().default(0),
    failing_since: timestamptz(),
    disabled_reason: text(),
    // The consumer's claim on the endpoint, so one sender at a time keeps event order.
    lease_until: timestamptz(),
    created_by: integer().references(() => user.user_id, { onDelete: "set null" }),
    created_at: createdAt(),
    updated_at: updatedAt(),
  },
  (t) => [
    index("webhook_org_id_idx").on(t.org_id, t.webhook_id),
    index("webhook_created_by_idx").on(t.created_by),
    check("webhook_consecutive_failures_non_negative", sql`${t.consecutive_failures} >= 0`),
  ],
);

/** One event for one endpoint: at least once, in event_id order per endpoint. */
export const webhookDelivery = pgTable(
  "webhook_delivery",
  {
    delivery_id: bigIdentityKey(),
    webhook_id: integer()
      .notNull()
      .references(() => webhook.webhook_id, { onDelete: "cascade" }),
    // No foreign key, like event_log's own references: history outlives its subjects.
    event_id: bigint({ mode: "number" }).notNull(),
    // pending → succeeded | failed (given up after the retry window).
    status: text().notNull().default("pending"),
    attempts: integer().notNull().default(0),
    next_attempt_at: timestamptz().notNull().defaultNow(),
    first_attempt_at: timestamptz(),
    last_attempt_at: timestamptz(),
    response_status: smallint(),
    duration_ms: integer(),
    error: text(),
    created_at: createdAt(),
    updated_at: updatedAt(),
  },
  (t) => [
    unique("webhook_delivery_webhook_id_event_id_key").on(t.webhook_id, t.event_id),
    index("webhook_delivery_pending_idx").on(t.webhook_id, t.event_id).where(sql`${t.status} = 'pending'`),
    check("webhook_delivery_status", sql`${t.status} in ('pending', 'succeeded', 'failed')`),
  ],
);

/**
 * The dispatcher's single row: event ids up to settled_event_id are final (committed or
 * never will be). pending_horizon (the sequence's last value) becomes settled once every
 * transaction that was writing event_log when it was read (pending_writers, their virtual
 * transaction ids) has ended.
 */
export const webhookDispatchState = pgTable(
  "webhook_dispatch_state",
  {
    singleton: boolean().primaryKey().default(true),
    settled_event_id: bigint({ mode: "number" }).notNull().default(0),
    pending_horizon: bigint({ mode: "number" }).notNull().default(0),
    pending_writers: text().array().notNull().default(sql`'{}'::text[]`),
    updated_at: updatedAt(),
  },
  (t) => [check("webhook_dispatch_state_singleton", sql`${t.singleton}`)],
);
