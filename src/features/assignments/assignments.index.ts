import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./assignments.handlers.ts";
import * as routes from "./assignments.routes.ts";

export const assignmentsRouter = createRouter()
  .openapi(routes.createAssignment, handlers.createAssignment)
  .openapi(routes.listAssignments, handlers.listAssignments)
  .openapi(routes.deleteAssignment, handlers.deleteAssignment);
