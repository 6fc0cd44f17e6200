import { request } from "../helpers/http.ts";
import { sql, testDb } from "../helpers/db.ts";
import { receiver } from "../helpers/webhooks.ts";
import { statuses, type OperationPolicy, type World } from "./policy.ts";

/**
 * Webhooks: webhook:manage — platform admins everywhere, a client_admin in their own
 * organization. The client's member sees its organization's webhooks but may not manage
 * them (403); platform staff, the pm and the other client do not see them (404).
 * Collections: 403 without the permission.
 */
const MANAGERS = { admin: 200, client_admin: 200, client_member: 403 } as const;

/** A fresh webhook of the world's client organization, made through the API by its admin. */
async function worldWebhook(world: World): Promise<number> {
  const response = await request("POST", "/api/v1/webhooks", {
    token: world.accounts.client_admin.token,
    body: { url: receiver("access-matrix").url, events: ["no_such.event"] },
  });
  if (response.status !== 201) throw new Error(`webhook fixture: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.webhook_id as number;
}

/** A delivery of that webhook (of its own creation event), written straight to the database. */
async function worldDelivery(world: World): Promise<number> {
  const webhookId = await worldWebhook(world);
  const result = await testDb().execute(sql`insert into webhook_delivery (webhook_id, event_id, status, attempts)
    select ${webhookId}, event_id, 'failed', 1 from event_log where action = 'webhook.create' and entity_id = ${webhookId}
    returning delivery_id`);
  return Number((result.rows[0] as { delivery_id: number }).delivery_id);
}

export const policies: OperationPolicy[] = [
  {
    operationId: "createWebhook",
    request: () => ({ method: "POST", path: "/api/v1/webhooks", body: { url: receiver("access-matrix").url, events: ["no_such.event"] } }),
    expect: statuses(403, { admin: 201, client_admin: 201, other_client: 201 }),
  },
  {
    operationId: "listWebhooks",
    request: () => ({ method: "GET", path: "/api/v1/webhooks" }),
    expect: statuses(403, { admin: 200, client_admin: 200, other_client: 200 }),
  },
  {
    operationId: "getWebhook",
    request: async (world) => ({ method: "GET", path: `/api/v1/webhooks/${await worldWebhook(world)}` }),
    expect: statuses(404, MANAGERS),
  },
  {
    operationId: "updateWebhook",
    request: async (world) => ({ method: "PATCH", path: `/api/v1/webhooks/${await worldWebhook(world)}`, body: { active: false } }),
    expect: statuses(404, MANAGERS),
  },
  {
    operationId: "deleteWebhook",
    request: async (world) => ({ method: "DELETE", path: `/api/v1/webhooks/${await worldWebhook(world)}` }),
    expect: statuses(404, { ...MANAGERS, admin: 204, client_admin: 204 }),
  },
  {
    operationId: "rotateWebhookSecret",
    request: async (world) => ({ method: "POST", path: `/api/v1/webhooks/${await worldWebhook(world)}/rotate-secret` }),
    expect: statuses(404, MANAGERS),
  },
  {
    operationId: "listWebhookDeliveries",
    request: async (world) => ({ method: "GET", path: `/api/v1/webhooks/${await worldWebhook(world)}/deliveries` }),
    expect: statuses(404, MANAGERS),
  },
  {
    operationId: "redeliverWebhookDelivery",
    request: async (world) => ({ method: "POST", path: `/api/v1/webhook-deliveries/${await worldDelivery(world)}/redeliver` }),
    expect: statuses(404, { ...MANAGERS, admin: 202, client_admin: 202 }),
  },
];
