import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./organizations.routes.ts";
import * as organizations from "./organizations.service.ts";

export const listOrganizations: AppRouteHandler<typeof routes.listOrganizations> = async (c) =>
  c.json(await organizations.listOrganizations(authenticatedContext(c), c.req.valid("query")), 200);

export const createOrganization: AppRouteHandler<typeof routes.createOrganization> = async (c) => {
  const { body, etag } = await organizations.createOrganization(authenticatedContext(c), c.req.valid("json"));
  return c.json(body, 201, { ETag: etag });
};

export const getOrganization: AppRouteHandler<typeof routes.getOrganization> = async (c) => {
  const { body, etag } = await organizations.getOrganization(authenticatedContext(c), c.req.valid("param").org_id, c.req.valid("query"));
  return c.json(body, 200, { ETag: etag });
};

export const updateOrganization: AppRouteHandler<typeof routes.updateOrganization> = async (c) => {
  const { body, etag } = await organizations.updateOrganization(
    authenticatedContext(c),
    c.req.valid("param").org_id,
    c.req.valid("json"),
    c.req.valid("header")["if-match"],
  );
  return c.json(body, 200, { ETag: etag });
};

export const deleteOrganization: AppRouteHandler<typeof routes.deleteOrganization> = async (c) => {
  await organizations.deleteOrganization(authenticatedContext(c), c.req.valid("param").org_id, c.req.valid("header")["if-match"]);
  return c.body(null, 204);
};

export const restoreOrganization: AppRouteHandler<typeof routes.restoreOrganization> = async (c) => {
  const { body, etag } = await organizations.restoreOrganization(authenticatedContext(c), c.req.valid("param").org_id);
  return c.json(body, 200, { ETag: etag });
};
