import { z } from "@hono/zod-openapi";
import { problem } from "../../lib/openapi-responses.ts";
import { cursorSchema, limitSchema, pageSchema } from "../../lib/pagination.ts";
import { pathId, protectedRoute } from "../../lib/routes.ts";
import { EVENT_FILTER } from "./webhooks.service.ts";

const TAG = "Webhooks";

const webhookParams = z.object({ webhook_id: pathId("webhook_id") });

const ifMatchHeader = z.object({
  "if-match": z.string().optional().openapi({
    description: "The ETag of the webhook as you last read it; the change is refused with 412 if it has changed since.",
  }),
});

const etagHeader = { ETag: { description: "The webhook's version, for If-Match.", schema: { type: "string" as const } } };

const url = z.string().trim().min(1).max(2048).openapi({
  description: "Where deliveries are POSTed: https with a public host name (README \"Webhooks\", destination rules).",
  example: "https://hooks.example.com/grandscale",
});

const events = z
  .array(z.string().regex(EVENT_FILTER, "must be an event action (project.create) or an entity type (project)"))
  .max(100)
  .openapi({
    description: "Event actions (`project.create`) or entity types (`project`, every action on it) to receive; empty or absent: every event.",
    example: ["project.create", "export_log"],
  });

const WebhookSchema = z
  .object({
    webhook_id: z.number().int(),
    org_id: z.number().int().openapi({ description: "Whose events the endpoint receives." }),
    url: z.string(),
    events: z.array(z.string()),
    active: z.boolean(),
    secret_prefix: z.string().openapi({ description: "The signing secret's first characters, to recognise it.", example: "whsec_AbCd" }),
    disabled_reason: z.string().nullable().openapi({ description: "Why the endpoint was disabled automatically (null otherwise)." }),
    consecutive_failures: z.number().int(),
    failing_since: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Webhook");

const DeliverySchema = z
  .object({
    delivery_id: z.number().int(),
    webhook_id: z.number().int(),
    event_id: z.number().int(),
    action: z.string().nullable(),
    status: z.enum(["pending", "succeeded", "failed"]),
    attempts: z.number().int(),
    next_attempt_at: z.string().nullable().openapi({ description: "When a pending delivery is tried next." }),
    last_attempt_at: z.string().nullable(),
    response_status: z.number().int().nullable(),
    duration_ms: z.number().int().nullable(),
    error: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("WebhookDelivery");

const CreatedWebhookSchema = WebhookSchema.extend({ secret: z.string().openapi({ example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }) }).openapi("CreatedWebhook");

export const createWebhook = protectedRoute({
  method: "post",
  path: "/webhooks",
  operationId: "createWebhook",
  returnsSecret: true,
  tags: [TAG],
  summary: "Register a webhook endpoint (its signing secret is shown only in this answer)",
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.strictObject({
            org_id: z.number().int().positive().optional().openapi({ description: "Platform admins only: the organization whose events it receives (default: the caller's)." }),
            url,
            events: events.optional(),
            active: z.boolean().optional(),
          }),
        },
      },
    },
  },
  responses: {
    201: {
      description: "The webhook. Store `secret` now: it cannot be shown again.",
      headers: etagHeader,
      content: { "application/json": { schema: CreatedWebhookSchema } },
    },
    ...problem("service_unavailable", "Webhooks are not configured on this deployment (no WEBHOOK_SECRET_KEY)."),
  },
});

export const listWebhooks = protectedRoute({
  method: "get",
  path: "/webhooks",
  operationId: "listWebhooks",
  tags: [TAG],
  summary: "The webhooks of the caller's organization (platform admins: all, or one organization's)",
  request: {
    query: z.object({
      limit: limitSchema,
      cursor: cursorSchema,
      org_id: z.coerce.number().int().positive().optional().openapi({ description: "Only this organization's webhooks." }),
    }),
  },
  responses: { 200: { description: "A page of webhooks.", content: { "application/json": { schema: pageSchema(WebhookSchema) } } } },
});

export const getWebhook = protectedRoute({
  method: "get",
  path: "/webhooks/{webhook_id}",
  operationId: "getWebhook",
  tags: [TAG],
  summary: "A webhook",
  request: { params: webhookParams },
  responses: { 200: { description: "The webhook.", headers: etagHeader, content: { "application/json": { schema: WebhookSchema } } } },
});

export const updateWebhook = protectedRoute({
  method: "patch",
  path: "/webhooks/{webhook_id}",
  operationId: "updateWebhook",
  tags: [TAG],
  summary: "Change a webhook's URL, events or state",
  description: "Send only the fields to change. `active: true` on a disabled endpoint clears its failure record; its pending deliveries resume.",
  request: {
    params: webhookParams,
    headers: ifMatchHeader,
    body: { required: true, content: { "application/json": { schema: z.strictObject({ url: url.optional(), events: events.optional(), active: z.boolean().optional() }) } } },
  },
  responses: {
    200: { description: "The updated webhook.", headers: etagHeader, content: { "application/json": { schema: WebhookSchema } } },
    ...problem("precondition_failed", "If-Match is stale."),
  },
});

export const deleteWebhook = protectedRoute({
  method: "delete",
  path: "/webhooks/{webhook_id}",
  operationId: "deleteWebhook",
  tags: [TAG],
  summary: "Delete a webhook and its delivery records",
  request: { params: webhookParams, headers: ifMatchHeader },
  responses: {
    204: { description: "Deleted." },
    ...problem("precondition_failed", "If-Match is stale."),
  },
});

export const listWebhookDeliveries = protectedRoute({
  method: "get",
  path: "/webhooks/{webhook_id}/deliveries",
  operationId: "listWebhookDeliveries",
  tags: [TAG],
  summary: "A webhook's deliveries, newest first, with their last attempt",
  request: { params: webhookParams, query: z.object({ limit: limitSchema, cursor: cursorSchema }) },
  responses: { 200: { description: "A page of deliveries.", content: { "application/json": { schema: pageSchema(DeliverySchema) } } } },
});

export const redeliverWebhookDelivery = protectedRoute({
  method: "post",
  path: "/webhook-deliveries/{delivery_id}/redeliver",
  operationId: "redeliverWebhookDelivery",
  tags: [TAG],
  summary: "Send a delivery again (it becomes pending and is sent next, before later events)",
  request: { params: z.object({ delivery_id: pathId("delivery_id") }) },
  responses: {
    202: { description: "The delivery, pending again.", content: { "application/json": { schema: DeliverySchema } } },
    ...problem("conflict", "The webhook is inactive: activate it first."),
  },
});

export const rotateWebhookSecret = protectedRoute({
  method: "post",
  path: "/webhooks/{webhook_id}/rotate-secret",
  operationId: "rotateWebhookSecret",
  returnsSecret: true,
  tags: [TAG],
  summary: "Replace a webhook's signing secret (the new one is shown only in this answer; the old one stops at once)",
  request: { params: webhookParams },
  responses: {
    200: {
      description: "The webhook with its new secret. Store `secret` now: it cannot be shown again.",
      headers: etagHeader,
      content: { "application/json": { schema: CreatedWebhookSchema } },
    },
    ...problem("service_unavailable", "Webhooks are not configured on this deployment (no WEBHOOK_SECRET_KEY)."),
  },
});
