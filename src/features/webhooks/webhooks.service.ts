/**
 * Webhook endpoints and their deliveries (README "Webhooks"). Each operation is one
 * round trip: the access check, the change and its event_log row in one statement.
 * Who: webhook:manage (platform admin: any organization; client_admin: their own).
 */
import { sql, type SQL } from "drizzle-orm";
import { auditInsert } from "../../lib/audit.ts";
import { staleVersion } from "../../lib/etag.ts";
import { ApiError } from "../../lib/errors.ts";
import { decodeCursor, encodeCursor, type Page } from "../../lib/pagination.ts";
import { refuse, requirePermission } from "../../lib/permissions.ts";
import { updateAudit, versionMatches } from "../../lib/row-version.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { runWrite } from "../../lib/write.ts";
import { can, isPlatformAdmin, type Principal } from "../auth/principal.ts";
import { sendWebhookMessages } from "./webhook-dispatch.ts";
import { checkDestination } from "./webhook-destinations.ts";
import { encryptSecret, generateWebhookSecret } from "./webhook-secrets.ts";

const PERMISSION = "webhook:manage";
const WEBHOOK_COLUMNS = sql.raw(`webhook_id, org_id, url, events, active, secret_prefix, disabled_reason, consecutive_failures,
  failing_since, created_at, updated_at`);

type WebhookRow = {
  webhook_id: number;
  org_id: number;
  url: string;
  events: string[];
  active: boolean;
  secret_prefix: string;
  disabled_reason: string | null;
  consecutive_failures: number;
  failing_since: string | null;
  created_at: string;
  updated_at: string;
};

function present(row: WebhookRow) {
  return {
    webhook_id: row.webhook_id,
    org_id: row.org_id,
    url: row.url,
    events: row.events,
    active: row.active,
    secret_prefix: row.secret_prefix,
    disabled_reason: row.disabled_reason,
    consecutive_failures: row.consecutive_failures,
    failing_since: isoTimestamp(row.failing_since),
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
  };
}

export type WebhookView = ReturnType<typeof present>;
export type VersionedWebhook = { webhook: WebhookView; version: string };

/** Webhooks the caller may see: a platform admin all, everyone else their organization's. */
export function webhookVisible(principal: Principal, alias: string): SQL {
  return isPlatformAdmin(principal) ? sql`true` : sql`${sql.raw(alias)}.org_id = ${principal.org_id}`;
}

function visibleWebhook(principal: Principal, webhookId: number): SQL {
  return sql`select 1 from webhook w where w.webhook_id = ${webhookId} and ${webhookVisible(principal, "w")}`;
}

function notFound(webhookId: number): ApiError {
  return new ApiError("not_found", `Webhook ${webhookId} does not exist.`);
}

async function refuseWebhook(ctx: AuthenticatedContext, webhookId: number): Promise<never> {
  return refuse(ctx, visibleWebhook(ctx.principal, webhookId), {
    forbidden: `Your role does not allow managing webhooks (${PERMISSION} is required).`,
    notFound: `Webhook ${webhookId} does not exist.`,
  });
}

/** A text[] parameter (drizzle would expand a JS array into a row). */
function textArray(values: readonly string[]): SQL {
  return sql`array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))::text[]`;
}

/** `project.create` (an action) or `project` (every action on an entity type). */
export const EVENT_FILTER = /^[a-z][a-z_]*(\.[a-z][a-z_]*)?$/;

export type CreateWebhookInput = { org_id?: number | undefined; url: string; events?: string[] | undefined; active?: boolean | undefined };

export async function createWebhook(ctx: AuthenticatedContext, input: CreateWebhookInput): Promise<VersionedWebhook & { secret: string }> {
  requirePermission(ctx.principal, PERMISSION, `Your role does not allow managing webhooks (${PERMISSION} is required).`);
  if (input.org_id !== undefined && input.org_id !== ctx.principal.org_id && !isPlatformAdmin(ctx.principal)) {
    throw new ApiError("forbidden", "You may create webhooks only for your own organization.");
  }
  const url = checkDestination(input.url, ctx.config.WEBHOOK_ALLOW_INSECURE);
  const { secret, prefix } = generateWebhookSecret();
  const encrypted = await encryptSecret(secret, ctx.config.WEBHOOK_SECRET_KEY);
  const orgId = input.org_id ?? ctx.principal.org_id;
  const events = [...new Set(input.events ?? [])];
  // The cursor starts at the newest event: an endpoint receives what happens after its creation (its own webhook.create included).
  const [rows] = await runWrite(ctx, [
    sql`with created as (
        insert into webhook (org_id, url, events, active, secret_encrypted, secret_prefix, cursor_event_id, created_by)
        select o.org_id, ${url}, ${textArray(events)}, ${input.active ?? true}, ${encrypted}, ${prefix},
          (select coalesce(max(event_id), 0) from event_log), ${ctx.principal.user_id}::integer
        from organization o where o.org_id = ${orgId}::integer and o.deleted_at is null
        returning *
      ), audited as (
        ${auditInsert(ctx, {
          action: "webhook.create",
          entity_type: "webhook",
          entity_id: sql`created.webhook_id`,
          org_id: sql`created.org_id`,
          after: sql`jsonb_build_object('url', created.url, 'events', created.events, 'active', created.active)`,
        }, sql`created`)}
      )
      select ${WEBHOOK_COLUMNS} from created`,
  ]);
  const row = rows![0] as WebhookRow | undefined;
  if (!row) throw new ApiError("validation_failed", "The request body is invalid.", { errors: [{ path: "body.org_id", message: "must be an existing organization" }] });
  return { webhook: present(row), version: row.updated_at, secret };
}

export async function listWebhooks(ctx: AuthenticatedContext, query: { limit: number; cursor?: string | undefined; org_id?: number | undefined }): Promise<Page<WebhookView>> {
  requirePermission(ctx.principal, PERMISSION, `Your role does not allow managing webhooks (${PERMISSION} is required).`);
  const after = query.cursor ? decodeCursor(query.cursor, "webhook_id").id : null;
  const result = await ctx.db.execute(sql`select ${WEBHOOK_COLUMNS} from webhook w
    where ${webhookVisible(ctx.principal, "w")}
      ${query.org_id === undefined ? sql`` : sql`and w.org_id = ${query.org_id}`}
      ${after === null ? sql`` : sql`and w.webhook_id > ${after}`}
    order by w.webhook_id limit ${query.limit + 1}`);
  const rows = result.rows as WebhookRow[];
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return { data: page.map(present), next_cursor: rows.length > query.limit && last ? encodeCursor("webhook_id", null, last.webhook_id) : null };
}

export async function getWebhook(ctx: AuthenticatedContext, webhookId: number): Promise<VersionedWebhook> {
  if (!can(ctx.principal, PERMISSION)) return refuseWebhook(ctx, webhookId);
  const result = await ctx.db.execute(sql`select ${WEBHOOK_COLUMNS} from webhook w
    where w.webhook_id = ${webhookId} and ${webhookVisible(ctx.principal, "w")}`);
  const row = result.rows[0] as WebhookRow | undefined;
  if (!row) throw notFound(webhookId);
  return { webhook: present(row), version: row.updated_at };
}

export type UpdateWebhookInput = { url?: string | undefined; events?: string[] | undefined; active?: boolean | undefined };

/** Turning an endpoint on again clears its failure record, so the disable rule counts afresh. */
export async function updateWebhook(ctx: AuthenticatedContext, webhookId: number, input: UpdateWebhookInput, version: string | null): Promise<VersionedWebhook> {
  if (!can(ctx.principal, PERMISSION)) return refuseWebhook(ctx, webhookId);
  const url = input.url === undefined ? undefined : checkDestination(input.url, ctx.config.WEBHOOK_ALLOW_INSECURE);
  const events = input.events === undefined ? undefined : [...new Set(input.events)];
  const [rows] = await runWrite(ctx, [
    sql`with target as (
        select w.* from webhook w where w.webhook_id = ${webhookId} and ${webhookVisible(ctx.principal, "w")} for update
      ), updated as (
        update webhook w set
          url = coalesce(${url ?? null}::text, w.url),
          events = ${events === undefined ? sql`w.events` : textArray(events)},
          active = coalesce(${input.active ?? null}::boolean, w.active),
          consecutive_failures = case when ${input.active === true} and not w.active then 0 else w.consecutive_failures end,
          failing_since = case when ${input.active === true} and not w.active then null else w.failing_since end,
          disabled_reason = case when ${input.active === true} then null else w.disabled_reason end,
          updated_at = now()
        from target where w.webhook_id = target.webhook_id and ${versionMatches(sql`target.updated_at`, version)}
        returning w.*
      ), audited as (
        ${updateAudit(ctx, { entity: "webhook", key: "webhook_id", scope: ["org_id"] })}
      )
      select (select count(*) from target)::int as found, updated.* from (select 1) one left join updated on true`,
  ]);
  const row = rows![0] as WebhookRow & { found: number };
  if (row.found === 0) throw notFound(webhookId);
  if (row.webhook_id === null) throw staleVersion();
  return { webhook: present(row), version: row.updated_at };
}

export async function deleteWebhook(ctx: AuthenticatedContext, webhookId: number, version: string | null): Promise<void> {
  if (!can(ctx.principal, PERMISSION)) return refuseWebhook(ctx, webhookId);
  const [rows] = await runWrite(ctx, [
    sql`with target as (
        select w.* from webhook w where w.webhook_id = ${webhookId} and ${webhookVisible(ctx.principal, "w")} for update
      ), deleted as (
        delete from webhook w using target
        where w.webhook_id = target.webhook_id and ${versionMatches(sql`target.updated_at`, version)}
        returning w.webhook_id, w.org_id, w.url
      ), audited as (
        ${auditInsert(ctx, {
          action: "webhook.delete",
          entity_type: "webhook",
          entity_id: sql`deleted.webhook_id`,
          org_id: sql`deleted.org_id`,
          before: sql`jsonb_build_object('url', deleted.url)`,
        }, sql`deleted`)}
      )
      select (select count(*) from target)::int as found, (select count(*) from deleted)::int as deleted`,
  ]);
  const row = rows![0] as { found: number; deleted: number };
  if (row.found === 0) throw notFound(webhookId);
  if (row.deleted === 0) throw staleVersion();
}

/**
 * A new signing secret, shown once; the old one stops at once (no overlap window), and
 * deliveries still pending are signed with the new one when they are sent.
 */
export async function rotateWebhookSecret(ctx: AuthenticatedContext, webhookId: number): Promise<VersionedWebhook & { secret: string }> {
  if (!can(ctx.principal, PERMISSION)) return refuseWebhook(ctx, webhookId);
  const { secret, prefix } = generateWebhookSecret();
  const encrypted = await encryptSecret(secret, ctx.config.WEBHOOK_SECRET_KEY);
  const [rows] = await runWrite(ctx, [
    sql`with target as (
        select w.* from webhook w where w.webhook_id = ${webhookId} and ${webhookVisible(ctx.principal, "w")} for update
      ), updated as (
        update webhook w set secret_encrypted = ${encrypted}, secret_prefix = ${prefix}, updated_at = now()
        from target where w.webhook_id = target.webhook_id
        returning w.*
      ), audited as (
        ${auditInsert(ctx, {
          action: "webhook.rotate_secret",
          entity_type: "webhook",
          entity_id: sql`updated.webhook_id`,
          org_id: sql`updated.org_id`,
          before: sql`jsonb_build_object('secret_prefix', target.secret_prefix)`,
          after: sql`jsonb_build_object('secret_prefix', updated.secret_prefix)`,
        }, sql`updated join target on target.webhook_id = updated.webhook_id`)}
      )
      select ${WEBHOOK_COLUMNS} from updated`,
  ]);
  const row = rows![0] as WebhookRow | undefined;
  if (!row) throw notFound(webhookId);
  return { webhook: present(row), version: row.updated_at, secret };
}

// ---------------------------------------------------------------- deliveries

type DeliveryRow = {
  delivery_id: number;
  webhook_id: number;
  event_id: number;
  action: string | null;
  status: string;
  attempts: number;
  next_attempt_at: string;
  last_attempt_at: string | null;
  response_status: number | null;
  duration_ms: number | null;
  error: string | null;
  created_at: string;
};

function presentDelivery(row: DeliveryRow) {
  return {
    delivery_id: Number(row.delivery_id),
    webhook_id: row.webhook_id,
    event_id: Number(row.event_id),
    action: row.action,
    status: row.status as "pending" | "succeeded" | "failed",
    attempts: row.attempts,
    next_attempt_at: row.status === "pending" ? isoTimestamp(row.next_attempt_at) : null,
    last_attempt_at: isoTimestamp(row.last_attempt_at),
    response_status: row.response_status,
    duration_ms: row.duration_ms,
    error: row.error,
    created_at: isoTimestamp(row.created_at),
  };
}

export type DeliveryView = ReturnType<typeof presentDelivery>;

const DELIVERY_COLUMNS = sql.raw(`d.delivery_id, d.webhook_id, d.event_id, e.action, d.status, d.attempts, d.next_attempt_at,
  d.last_attempt_at, d.response_status, d.duration_ms, d.error, d.created_at`);

/** Newest first. One round trip: the webhook's visibility and its page together (no row: 404). */
export async function listDeliveries(ctx: AuthenticatedContext, webhookId: number, query: { limit: number; cursor?: string | undefined }): Promise<Page<DeliveryView>> {
  if (!can(ctx.principal, PERMISSION)) return refuseWebhook(ctx, webhookId);
  const before = query.cursor ? decodeCursor(query.cursor, "-delivery_id", "bigint").id : null;
  const result = await ctx.db.execute(sql`select w.webhook_id as visible_webhook, page.* from webhook w
    left join lateral (
      select ${DELIVERY_COLUMNS} from webhook_delivery d left join event_log e on e.event_id = d.event_id
      where d.webhook_id = w.webhook_id ${before === null ? sql`` : sql`and d.delivery_id < ${before}`}
      order by d.delivery_id desc limit ${query.limit + 1}
    ) page on true
    where w.webhook_id = ${webhookId} and ${webhookVisible(ctx.principal, "w")}`);
  if (result.rows.length === 0) throw notFound(webhookId);
  const rows = (result.rows as (DeliveryRow & { visible_webhook: number })[]).filter((row) => row.delivery_id !== null);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return { data: page.map(presentDelivery), next_cursor: rows.length > query.limit && last ? encodeCursor("-delivery_id", null, Number(last.delivery_id)) : null };
}

/**
 * Sends a delivery again: it becomes pending and due now, and its endpoint's queue
 * message goes out once the change committed. 409 while the endpoint is inactive.
 */
export async function redeliver(ctx: AuthenticatedContext, deliveryId: number): Promise<DeliveryView> {
  const visibleDelivery = sql`select 1 from webhook_delivery d join webhook w on w.webhook_id = d.webhook_id
    where d.delivery_id = ${deliveryId} and ${webhookVisible(ctx.principal, "w")}`;
  const answers = { forbidden: `Your role does not allow managing webhooks (${PERMISSION} is required).`, notFound: `Webhook delivery ${deliveryId} does not exist.` };
  if (!can(ctx.principal, PERMISSION)) return refuse(ctx, visibleDelivery, answers);
  const [rows] = await runWrite(ctx, [
    sql`with target as (
        select d.delivery_id, d.status, w.webhook_id, w.org_id, w.active from webhook_delivery d join webhook w on w.webhook_id = d.webhook_id
        where d.delivery_id = ${deliveryId} and ${webhookVisible(ctx.principal, "w")}
        for update of d
      ), updated as (
        update webhook_delivery d set status = 'pending', next_attempt_at = now(), error = null, updated_at = now()
        from target where d.delivery_id = target.delivery_id and target.active
        returning d.*
      ), audited as (
        ${auditInsert(ctx, {
          action: "webhook_delivery.redeliver",
          entity_type: "webhook_delivery",
          entity_id: sql`updated.delivery_id`,
          org_id: sql`target.org_id`,
          before: sql`jsonb_build_object('status', target.status)`,
          after: sql`jsonb_build_object('status', updated.status)`,
        }, sql`updated join target on target.delivery_id = updated.delivery_id`)}
      )
      select target.active, ${DELIVERY_COLUMNS} from target
      join updated d on d.delivery_id = target.delivery_id
      left join event_log e on e.event_id = d.event_id
      union all
      select target.active, null, null, null, null, null, null, null, null, null, null, null, null from target where not target.active`,
  ]);
  const row = rows![0] as (DeliveryRow & { active: boolean }) | undefined;
  if (!row) throw new ApiError("not_found", answers.notFound);
  if (!row.active) throw new ApiError("conflict", "The webhook is inactive; activate it (PATCH active: true) before redelivering.");
  await sendWebhookMessages(ctx.config.WEBHOOK_QUEUE, [row.webhook_id]);
  return presentDelivery(row);
}
