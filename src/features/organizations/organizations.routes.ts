import { z } from "@hono/zod-openapi";
import { problem } from "../../lib/openapi-responses.ts";
import { cursorSchema, limitSchema, pageSchema, sortSchema } from "../../lib/pagination.ts";
import { includeDeletedQuery, searchQuery } from "../../lib/query-params.ts";
import { jsonBody, protectedRoute } from "../../lib/routes.ts";

const TAG = "Organizations";

export const OrganizationSchema = z
  .object({
    org_id: z.number().int(),
    name: z.string(),
    kind: z.enum(["platform", "client"]),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.string().nullable(),
  })
  .openapi("Organization");

const name = z.string().trim().min(1).max(200).openapi({ example: "Acme Client" });
const orgParams = z.object({ org_id: z.coerce.number().int().positive() });
const ifMatchHeaders = z.object({
  "if-match": z.string().optional().openapi({ description: "The `ETag` of the organization as you last read it; 412 if it changed since." }),
});
const etagHeader = { ETag: { description: "The organization's current version, for `If-Match`.", schema: { type: "string" as const } } };
const organizationBody = (description: string) => ({
  description,
  headers: etagHeader,
  content: { "application/json": { schema: OrganizationSchema } },
});

export const listOrganizations = protectedRoute({
  method: "get",
  path: "/organizations",
  operationId: "listOrganizations",
  tags: [TAG],
  summary: "Organizations the caller can see (admins: all; others: their own, pms also their projects' clients)",
  request: {
    query: z.object({
      limit: limitSchema,
      cursor: cursorSchema,
      sort: sortSchema(["name", "created_at"], "name"),
      kind: z.enum(["platform", "client"]).optional(),
      q: searchQuery.openapi({ description: "Case-insensitive substring of the name." }),
      include_deleted: includeDeletedQuery,
    }),
  },
  responses: { 200: { description: "A page of organizations.", content: { "application/json": { schema: pageSchema(OrganizationSchema) } } } },
});

export const createOrganization = protectedRoute({
  method: "post",
  path: "/organizations",
  operationId: "createOrganization",
  tags: [TAG],
  summary: "Create a client organization (platform admins)",
  request: { body: jsonBody(z.object({ name })) },
  responses: {
    201: organizationBody("The new client organization."),
    ...problem("conflict", "An organization with this name exists (names stay taken while an organization is soft-deleted)."),
  },
});

export const getOrganization = protectedRoute({
  method: "get",
  path: "/organizations/{org_id}",
  operationId: "getOrganization",
  tags: [TAG],
  summary: "One organization",
  request: { params: orgParams, query: z.object({ include_deleted: includeDeletedQuery }) },
  responses: { 200: organizationBody("The organization.") },
});

export const updateOrganization = protectedRoute({
  method: "patch",
  path: "/organizations/{org_id}",
  operationId: "updateOrganization",
  tags: [TAG],
  summary: "Rename an organization (platform admins; client admins their own)",
  request: { params: orgParams, headers: ifMatchHeaders, body: jsonBody(z.object({ name })) },
  responses: {
    200: organizationBody("The updated organization."),
    ...problem("conflict", "Another organization has this name."),
    ...problem("precondition_failed", "If-Match names a version that is no longer current."),
  },
});

export const deleteOrganization = protectedRoute({
  method: "delete",
  path: "/organizations/{org_id}",
  operationId: "deleteOrganization",
  tags: [TAG],
  summary: "Soft-delete a client organization (platform admins); its people can no longer sign in",
  request: { params: orgParams, headers: ifMatchHeaders },
  responses: {
    204: { description: "Deleted; `POST …/restore` undoes it." },
    ...problem("conflict", "The platform organization cannot be deleted."),
    ...problem("precondition_failed", "If-Match names a version that is no longer current."),
  },
});

export const restoreOrganization = protectedRoute({
  method: "post",
  path: "/organizations/{org_id}/restore",
  operationId: "restoreOrganization",
  tags: [TAG],
  summary: "Undo the soft delete of an organization (platform admins)",
  request: { params: orgParams },
  responses: {
    200: organizationBody("The restored organization."),
    ...problem("conflict", "The organization is not deleted."),
  },
});
