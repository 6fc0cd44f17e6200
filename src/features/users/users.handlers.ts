import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./users.routes.ts";
import * as users from "./users.service.ts";

export const listUsers: AppRouteHandler<typeof routes.listUsers> = async (c) =>
  c.json(await users.listUsers(authenticatedContext(c), c.req.valid("query")), 200);

export const createUser: AppRouteHandler<typeof routes.createUser> = async (c) => {
  const { body, etag } = await users.createUser(authenticatedContext(c), c.req.valid("json"));
  return c.json(body, 201, { ETag: etag });
};

export const getUser: AppRouteHandler<typeof routes.getUser> = async (c) => {
  const { body, etag } = await users.getUser(authenticatedContext(c), c.req.valid("param").user_id, c.req.valid("query"));
  return c.json(body, 200, { ETag: etag });
};

export const updateUser: AppRouteHandler<typeof routes.updateUser> = async (c) => {
  const { body, etag } = await users.updateUser(
    authenticatedContext(c),
    c.req.valid("param").user_id,
    c.req.valid("json"),
    c.req.valid("header")["if-match"],
  );
  return c.json(body, 200, { ETag: etag });
};

export const deleteUser: AppRouteHandler<typeof routes.deleteUser> = async (c) => {
  await users.deleteUser(authenticatedContext(c), c.req.valid("param").user_id, c.req.valid("header")["if-match"]);
  return c.body(null, 204);
};

export const restoreUser: AppRouteHandler<typeof routes.restoreUser> = async (c) => {
  const { body, etag } = await users.restoreUser(authenticatedContext(c), c.req.valid("param").user_id);
  return c.json(body, 200, { ETag: etag });
};

export const setUserRoles: AppRouteHandler<typeof routes.setUserRoles> = async (c) => {
  const { body, etag } = await users.setUserRoles(
    authenticatedContext(c),
    c.req.valid("param").user_id,
    c.req.valid("json").roles,
    c.req.valid("header")["if-match"],
  );
  return c.json(body, 200, { ETag: etag });
};
