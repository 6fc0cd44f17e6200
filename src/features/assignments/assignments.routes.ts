import { z } from "@hono/zod-openapi";
import { assignmentRole } from "../../db/schema/enums.ts";
import { problem } from "../../lib/openapi-responses.ts";
import { cursorSchema, limitSchema, pageSchema } from "../../lib/pagination.ts";
import { jsonBody, pathId, protectedRoute } from "../../lib/routes.ts";
import { jobParams } from "../annotation-jobs/annotation-jobs.routes.ts";

const TAG = "Assignments";

export const ASSIGNMENT_ROLES = assignmentRole.enumValues;

export const AssignmentSchema = z
  .object({
    assignment_id: z.number().int(),
    job_id: z.number().int(),
    user_id: z.number().int(),
    role: z.enum(ASSIGNMENT_ROLES),
    assigned_by: z.number().int().nullable(),
    created_at: z.string(),
  })
  .openapi("Assignment");

export const createAssignment = protectedRoute({
  method: "post",
  path: "/annotation-jobs/{job_id}/assignments",
  operationId: "createAssignment",
  tags: [TAG],
  summary: "Assign a platform staff member to a job in a role",
  description:
    "The user must be a live, active platform user holding the role of the same name (annotator, reviewer or qc). " +
    "One assignment per (job, user, role): a repeat is 409. Only the project's pm or a platform admin may assign. " +
    "An annotator assignment lets its holder save annotations and submit; reviewer and qc assignments let their holders review.",
  request: {
    params: jobParams,
    body: jsonBody(z.strictObject({ user_id: z.number().int().positive(), role: z.enum(ASSIGNMENT_ROLES) })),
  },
  responses: {
    201: { description: "The assignment.", content: { "application/json": { schema: AssignmentSchema } } },
    ...problem("conflict", "The user already holds this role on the job, or the Idempotency-Key is in use."),
  },
});

export const listAssignments = protectedRoute({
  method: "get",
  path: "/annotation-jobs/{job_id}/assignments",
  operationId: "listAssignments",
  tags: [TAG],
  summary: "List a job's assignments",
  request: {
    params: jobParams,
    query: z.object({
      limit: limitSchema,
      cursor: cursorSchema,
      role: z.enum(ASSIGNMENT_ROLES).optional().openapi({ description: "Only assignments in this role." }),
    }),
  },
  responses: { 200: { description: "A page of assignments, oldest first.", content: { "application/json": { schema: pageSchema(AssignmentSchema) } } } },
});

export const deleteAssignment = protectedRoute({
  method: "delete",
  path: "/assignments/{assignment_id}",
  operationId: "deleteAssignment",
  tags: [TAG],
  summary: "Remove an assignment",
  description: "The holder loses access to the job (unless they hold another assignment on it). The annotations they saved stay.",
  request: { params: z.object({ assignment_id: pathId("assignment_id") }) },
  responses: { 204: { description: "Removed." } },
});
