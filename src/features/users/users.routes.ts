import { z } from "@hono/zod-openapi";
import { problem } from "../../lib/openapi-responses.ts";
import { cursorSchema, limitSchema, pageSchema, sortSchema } from "../../lib/pagination.ts";
import { booleanQuery, includeDeletedQuery, searchQuery } from "../../lib/query-params.ts";
import { jsonBody, protectedRoute } from "../../lib/routes.ts";

const TAG = "Users";

export const UserSchema = z
  .object({
    user_id: z.number().int(),
    org_id: z.number().int(),
    email: z.string(),
    full_name: z.string(),
    is_active: z.boolean(),
    roles: z.array(z.string()).openapi({ description: "Role names, sorted." }),
    last_login_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.string().nullable(),
  })
  .openapi("User", { description: "A person. Passwords and their hashes are never part of any answer." });

const email = z.email().max(254).openapi({ example: "new.member@client.test" });
// The same policy as sign-up (OWASP ASVS: 12–128 characters, no composition rules).
const password = z
  .string()
  .min(12, "must be at least 12 characters")
  .max(128)
  .openapi({ description: "Set by the admin and handed over out of band; stored only as a scrypt hash.", example: "correct horse battery" });
const fullName = z.string().trim().min(1).max(200);
const roleNames = z.array(z.string().min(1).max(100)).max(20);
const userParams = z.object({ user_id: z.coerce.number().int().positive() });
const ifMatchHeaders = z.object({
  "if-match": z.string().optional().openapi({ description: "The `ETag` of the user as you last read it; 412 if it changed since." }),
});
const etagHeader = { ETag: { description: "The user's current version, for `If-Match`.", schema: { type: "string" as const } } };
const userBody = (description: string) => ({ description, headers: etagHeader, content: { "application/json": { schema: UserSchema } } });
const stale = problem("precondition_failed", "If-Match names a version that is no longer current.");

export const listUsers = protectedRoute({
  method: "get",
  path: "/users",
  operationId: "listUsers",
  tags: [TAG],
  summary: "Users the caller can see (admins: all; others: their own organization's)",
  request: {
    query: z.object({
      limit: limitSchema,
      cursor: cursorSchema,
      sort: sortSchema(["email", "full_name", "created_at"], "email"),
      org_id: z.coerce.number().int().positive().optional(),
      role: z.string().min(1).max(100).optional().openapi({ description: "Only users holding this role." }),
      is_active: booleanQuery("Only active (`true`) or deactivated (`false`) users."),
      q: searchQuery.openapi({ description: "Case-insensitive substring of the email or full name." }),
      include_deleted: includeDeletedQuery,
    }),
  },
  responses: { 200: { description: "A page of users.", content: { "application/json": { schema: pageSchema(UserSchema) } } } },
});

export const createUser = protectedRoute({
  method: "post",
  path: "/users",
  operationId: "createUser",
  tags: [TAG],
  summary: "Create a user (platform admins anywhere; client admins in their own organization, client roles only)",
  request: {
    body: jsonBody(
      z.object({
        email,
        full_name: fullName,
        password,
        org_id: z.number().int().positive().optional().openapi({ description: "Defaults to the caller's organization." }),
        roles: roleNames.optional().openapi({
          description: "Role names. Default: `client_member` in a client organization, none in the platform organization.",
        }),
      }),
    ),
  },
  responses: {
    201: userBody("The new user."),
    ...problem("conflict", "An account with this email exists (emails stay taken while a user is soft-deleted)."),
  },
});

export const getUser = protectedRoute({
  method: "get",
  path: "/users/{user_id}",
  operationId: "getUser",
  tags: [TAG],
  summary: "One user",
  request: { params: userParams, query: z.object({ include_deleted: includeDeletedQuery }) },
  responses: { 200: userBody("The user.") },
});

export const updateUser = protectedRoute({
  method: "patch",
  path: "/users/{user_id}",
  operationId: "updateUser",
  tags: [TAG],
  summary: "Update a user's name, email, active flag or password",
  request: {
    params: userParams,
    headers: ifMatchHeaders,
    body: jsonBody(
      z
        .object({ email, full_name: fullName, is_active: z.boolean(), password })
        .partial()
        .refine((body) => Object.values(body).some((value) => value !== undefined), "name at least one field to change"),
    ),
  },
  responses: {
    200: userBody("The updated user."),
    ...problem("conflict", "Another account has this email."),
    ...stale,
  },
});

export const deleteUser = protectedRoute({
  method: "delete",
  path: "/users/{user_id}",
  operationId: "deleteUser",
  tags: [TAG],
  summary: "Soft-delete a user and revoke their sessions and API tokens (not yourself)",
  request: { params: userParams, headers: ifMatchHeaders },
  responses: { 204: { description: "Deleted; `POST …/restore` undoes it." }, ...stale },
});

export const restoreUser = protectedRoute({
  method: "post",
  path: "/users/{user_id}/restore",
  operationId: "restoreUser",
  tags: [TAG],
  summary: "Undo the soft delete of a user (they sign in again; revoked tokens stay revoked)",
  request: { params: userParams },
  responses: { 200: userBody("The restored user."), ...problem("conflict", "The user is not deleted.") },
});

export const setUserRoles = protectedRoute({
  method: "put",
  path: "/users/{user_id}/roles",
  operationId: "setUserRoles",
  tags: [TAG],
  summary: "Replace a user's roles (roles must match the user's kind of organization; only platform admins grant platform roles)",
  request: {
    params: userParams,
    headers: ifMatchHeaders,
    body: jsonBody(z.object({ roles: roleNames.openapi({ description: "The complete new set of role names; `[]` removes every role." }) })),
  },
  responses: { 200: userBody("The user with the new roles."), ...stale },
});
