import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./assignments.routes.ts";
import * as assignments from "./assignments.service.ts";

export const createAssignment: AppRouteHandler<typeof routes.createAssignment> = async (c) =>
  c.json(await assignments.createAssignment(authenticatedContext(c), c.req.valid("param").job_id, c.req.valid("json")), 201);

export const listAssignments: AppRouteHandler<typeof routes.listAssignments> = async (c) =>
  c.json(await assignments.listAssignments(authenticatedContext(c), c.req.valid("param").job_id, c.req.valid("query")), 200);

export const deleteAssignment: AppRouteHandler<typeof routes.deleteAssignment> = async (c) => {
  await assignments.deleteAssignment(authenticatedContext(c), c.req.valid("param").assignment_id);
  return c.body(null, 204);
};
