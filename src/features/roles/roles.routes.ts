import { z } from "@hono/zod-openapi";
import { cursorSchema, limitSchema, pageSchema } from "../../lib/pagination.ts";
import { protectedRoute } from "../../lib/routes.ts";

const TAG = "Roles and permissions";

export const RoleSchema = z
  .object({
    role_id: z.number().int(),
    name: z.string().openapi({ example: "client_member" }),
    org_kind: z.enum(["platform", "client"]).openapi({ description: "The kind of organization whose users may hold the role." }),
    description: z.string(),
    permissions: z.array(z.string()).openapi({ description: "Permission names the role grants, sorted." }),
  })
  .openapi("Role");

export const PermissionSchema = z
  .object({
    permission_id: z.number().int(),
    name: z.string().openapi({ example: "project:read" }),
    description: z.string(),
  })
  .openapi("Permission");

export const listRoles = protectedRoute({
  method: "get",
  path: "/roles",
  operationId: "listRoles",
  tags: [TAG],
  summary: "The role catalog (client callers see the client roles), by name",
  request: {
    query: z.object({ limit: limitSchema, cursor: cursorSchema, org_kind: z.enum(["platform", "client"]).optional() }),
  },
  responses: { 200: { description: "A page of roles.", content: { "application/json": { schema: pageSchema(RoleSchema) } } } },
});

export const listPermissions = protectedRoute({
  method: "get",
  path: "/permissions",
  operationId: "listPermissions",
  tags: [TAG],
  summary: "The permission catalog, by name",
  request: { query: z.object({ limit: limitSchema, cursor: cursorSchema }) },
  responses: { 200: { description: "A page of permissions.", content: { "application/json": { schema: pageSchema(PermissionSchema) } } } },
});
