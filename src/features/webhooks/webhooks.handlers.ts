import { etagOf } from "../../lib/etag.ts";
import { ifMatchVersion } from "../../lib/row-version.ts";
import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./webhooks.routes.ts";
import * as webhooks from "./webhooks.service.ts";

export const createWebhook: AppRouteHandler<typeof routes.createWebhook> = async (c) => {
  const { webhook, version, secret } = await webhooks.createWebhook(authenticatedContext(c), c.req.valid("json"));
  c.header("ETag", etagOf(version));
  c.header("Location", `${new URL(c.req.url).pathname}/${webhook.webhook_id}`);
  return c.json({ ...webhook, secret }, 201);
};

export const listWebhooks: AppRouteHandler<typeof routes.listWebhooks> = async (c) =>
  c.json(await webhooks.listWebhooks(authenticatedContext(c), c.req.valid("query")), 200);

export const getWebhook: AppRouteHandler<typeof routes.getWebhook> = async (c) => {
  const { webhook, version } = await webhooks.getWebhook(authenticatedContext(c), c.req.valid("param").webhook_id);
  c.header("ETag", etagOf(version));
  return c.json(webhook, 200);
};

export const updateWebhook: AppRouteHandler<typeof routes.updateWebhook> = async (c) => {
  const version = ifMatchVersion(c.req.header("if-match"));
  const { webhook, version: next } = await webhooks.updateWebhook(authenticatedContext(c), c.req.valid("param").webhook_id, c.req.valid("json"), version);
  c.header("ETag", etagOf(next));
  return c.json(webhook, 200);
};

export const deleteWebhook: AppRouteHandler<typeof routes.deleteWebhook> = async (c) => {
  await webhooks.deleteWebhook(authenticatedContext(c), c.req.valid("param").webhook_id, ifMatchVersion(c.req.header("if-match")));
  return c.body(null, 204);
};

export const listWebhookDeliveries: AppRouteHandler<typeof routes.listWebhookDeliveries> = async (c) =>
  c.json(await webhooks.listDeliveries(authenticatedContext(c), c.req.valid("param").webhook_id, c.req.valid("query")), 200);

export const redeliverWebhookDelivery: AppRouteHandler<typeof routes.redeliverWebhookDelivery> = async (c) =>
  c.json(await webhooks.redeliver(authenticatedContext(c), c.req.valid("param").delivery_id), 202);

export const rotateWebhookSecret: AppRouteHandler<typeof routes.rotateWebhookSecret> = async (c) => {
  const { webhook, version, secret } = await webhooks.rotateWebhookSecret(authenticatedContext(c), c.req.valid("param").webhook_id);
  c.header("ETag", etagOf(version));
  return c.json({ ...webhook, secret }, 200);
};
