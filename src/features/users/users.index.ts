import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./users.handlers.ts";
import * as routes from "./users.routes.ts";

export const usersRouter = createRouter()
  .openapi(routes.listUsers, handlers.listUsers)
  .openapi(routes.createUser, handlers.createUser)
  .openapi(routes.getUser, handlers.getUser)
  .openapi(routes.updateUser, handlers.updateUser)
  .openapi(routes.deleteUser, handlers.deleteUser)
  .openapi(routes.restoreUser, handlers.restoreUser)
  .openapi(routes.setUserRoles, handlers.setUserRoles);
