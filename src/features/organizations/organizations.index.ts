import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./organizations.handlers.ts";
import * as routes from "./organizations.routes.ts";

export const organizationsRouter = createRouter()
  .openapi(routes.listOrganizations, handlers.listOrganizations)
  .openapi(routes.createOrganization, handlers.createOrganization)
  .openapi(routes.getOrganization, handlers.getOrganization)
  .openapi(routes.updateOrganization, handlers.updateOrganization)
  .openapi(routes.deleteOrganization, handlers.deleteOrganization)
  .openapi(routes.restoreOrganization, handlers.restoreOrganization);
