import { z } from "@hono/zod-openapi";
import { problem } from "../../lib/openapi-responses.ts";
import { cursorSchema, limitSchema, pageSchema, sortSchema } from "../../lib/pagination.ts";
import { booleanQuery, includeDeletedQuery, searchQuery } from "../../lib/query-params.ts";
import { pathId, protectedRoute } from "../../lib/routes.ts";
import { ProjectDetailSchema, ProjectSchema, ProjectStatusSchema } from "./projects.presenters.ts";

const TAG = "Projects";

const projectParams = z.object({ project_id: pathId("project_id") });

const ifMatchHeader = z.object({
  "if-match": z.string().optional().openapi({
    description: "The ETag of the project as you last read it; the change is refused with 412 if it has changed since.",
  }),
});

const etagHeader = { ETag: { description: "The project's version, for If-Match.", schema: { type: "string" as const } } };

const name = z.string().trim().min(1).max(200);
const description = z.string().max(10_000).nullable();
const userReference = z.number().int().positive().nullable();

export const listProjects = protectedRoute({
  method: "get",
  path: "/projects",
  operationId: "listProjects",
  tags: [TAG],
  summary: "List the projects the caller can see",
  description:
    "Admins see every project, clients their organization's, pms the projects they run. Staff (annotator, reviewer, qc) hold no project:read and get 403.",
  request: {
    query: z.object({
      limit: limitSchema,
      cursor: cursorSchema,
      sort: sortSchema(["name", "created_at", "updated_at"], "-created_at"),
      org_id: z.coerce.number().int().positive().optional(),
      status: ProjectStatusSchema.optional().openapi({ description: "Only projects in this status." }),
      is_active: booleanQuery("Only active (true) or inactive (false) projects."),
      q: searchQuery.openapi({ description: "Case-insensitive substring of the name or description." }),
      include_deleted: includeDeletedQuery,
    }),
  },
  responses: { 200: { description: "A page of projects.", content: { "application/json": { schema: pageSchema(ProjectSchema) } } } },
});

export const createProject = protectedRoute({
  method: "post",
  path: "/projects",
  operationId: "createProject",
  tags: [TAG],
  summary: "Create a project (status draft)",
  description:
    "Platform admins create projects in any client organization (`org_id` required); client admins only in their own (`org_id` defaults to it). `our_pm_id` is set by the platform only.",
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.strictObject({
            org_id: z.number().int().positive().optional(),
            name,
            description: description.optional(),
            is_active: z.boolean().optional(),
            client_pm_id: userReference.optional().openapi({ description: "An active user of the project's organization." }),
            our_pm_id: userReference.optional().openapi({ description: "An active platform user with the pm or admin role." }),
          }),
        },
      },
    },
  },
  responses: {
    201: { description: "The project.", headers: etagHeader, content: { "application/json": { schema: ProjectDetailSchema } } },
    ...problem("conflict", "A live project of the organization already has this name, or the Idempotency-Key is in use."),
  },
});

export const getProject = protectedRoute({
  method: "get",
  path: "/projects/{project_id}",
  operationId: "getProject",
  tags: [TAG],
  summary: "Get a project",
  request: { params: projectParams, query: z.object({ include_deleted: includeDeletedQuery }) },
  responses: { 200: { description: "The project.", headers: etagHeader, content: { "application/json": { schema: ProjectDetailSchema } } } },
});

export const updateProject = protectedRoute({
  method: "patch",
  path: "/projects/{project_id}",
  operationId: "updateProject",
  tags: [TAG],
  summary: "Update a project or move its status",
  description: "Send only the fields to change. A request that changes nothing answers the project as it is and records no event.",
  request: {
    params: projectParams,
    headers: ifMatchHeader,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.strictObject({
            name: name.optional(),
            description: description.optional(),
            status: ProjectStatusSchema.optional(),
            is_active: z.boolean().optional(),
            client_pm_id: userReference.optional().openapi({ description: "An active user of the project's organization." }),
            our_pm_id: userReference.optional().openapi({ description: "An active platform user with the pm or admin role (platform callers only)." }),
            annotations_per_row: z.number().int().min(1).max(10).optional().openapi({
              description: "How many annotators answer each row (1–10); jobs without their own setting follow it, including their submission rule.",
            }),
            qc_sample_rate: z.number().min(0).max(1).optional().openapi({
              description: "The share of each job's rows QC checks after a reviewer approves it (0–1; 0 turns the QC stage off). Jobs already awaiting QC keep the rate they froze.",
            }),
          }),
        },
      },
    },
  },
  responses: {
    200: { description: "The updated project.", headers: etagHeader, content: { "application/json": { schema: ProjectDetailSchema } } },
    ...problem("conflict", "The status move is not allowed (the detail names the allowed moves), or the new name is taken."),
    ...problem("precondition_failed", "If-Match is stale."),
  },
});

export const deleteProject = protectedRoute({
  method: "delete",
  path: "/projects/{project_id}",
  operationId: "deleteProject",
  tags: [TAG],
  summary: "Delete a project (soft; restore undoes it)",
  request: { params: projectParams, headers: ifMatchHeader },
  responses: {
    204: { description: "Deleted." },
    ...problem("precondition_failed", "If-Match is stale."),
  },
});

export const restoreProject = protectedRoute({
  method: "post",
  path: "/projects/{project_id}/restore",
  operationId: "restoreProject",
  tags: [TAG],
  summary: "Restore a deleted project",
  request: { params: projectParams },
  responses: {
    200: { description: "The restored project.", headers: etagHeader, content: { "application/json": { schema: ProjectDetailSchema } } },
    ...problem("conflict", "The project is not deleted, or a live project of its organization now has its name."),
  },
});
