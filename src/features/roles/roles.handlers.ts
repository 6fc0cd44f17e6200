import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./roles.routes.ts";
import * as roles from "./roles.service.ts";

export const listRoles: AppRouteHandler<typeof routes.listRoles> = async (c) =>
  c.json(await roles.listRoles(authenticatedContext(c), c.req.valid("query")), 200);

export const listPermissions: AppRouteHandler<typeof routes.listPermissions> = async (c) =>
  c.json(await roles.listPermissions(authenticatedContext(c), c.req.valid("query")), 200);
