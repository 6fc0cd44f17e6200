import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./roles.handlers.ts";
import * as routes from "./roles.routes.ts";

export const rolesRouter = createRouter()
  .openapi(routes.listRoles, handlers.listRoles)
  .openapi(routes.listPermissions, handlers.listPermissions);
