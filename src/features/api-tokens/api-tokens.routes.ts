import { z } from "@hono/zod-openapi";
import { cursorSchema, limitSchema, pageSchema } from "../../lib/pagination.ts";
import { protectedRoute } from "../../lib/routes.ts";

const TAG = "API tokens";

const ApiTokenSchema = z
  .object({
    token_id: z.number().int(),
    name: z.string(),
    prefix: z.string().openapi({ description: "The token's first characters, to recognise it.", example: "gsk_AbC123" }),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable().openapi({ description: "Kept to the minute." }),
  })
  .openapi("ApiToken");

export const createApiToken = protectedRoute({
  method: "post",
  path: "/api-tokens",
  operationId: "createApiToken",
  returnsSecret: true,
  tags: [TAG],
  summary: "Create an API token for scripts (the secret is shown only in this answer)",
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({
            name: z.string().trim().min(1).max(100),
            expires_at: z.iso.datetime({ offset: true }).optional().refine((value) => !value || Date.parse(value) > Date.now(), "must be in the future"),
          }),
        },
      },
    },
  },
  responses: {
    201: {
      description: "The token. Store `token` now: it cannot be shown again.",
      content: { "application/json": { schema: ApiTokenSchema.extend({ token: z.string() }).openapi("CreatedApiToken") } },
    },
  },
});

export const listApiTokens = protectedRoute({
  method: "get",
  path: "/api-tokens",
  operationId: "listApiTokens",
  tags: [TAG],
  summary: "The caller's live API tokens (never their secrets)",
  request: { query: z.object({ limit: limitSchema, cursor: cursorSchema }) },
  responses: { 200: { description: "A page of tokens.", content: { "application/json": { schema: pageSchema(ApiTokenSchema) } } } },
});

export const revokeApiToken = protectedRoute({
  method: "delete",
  path: "/api-tokens/{token_id}",
  operationId: "revokeApiToken",
  tags: [TAG],
  summary: "Revoke one of the caller's API tokens, effective immediately",
  request: { params: z.object({ token_id: z.coerce.number().int().positive() }) },
  responses: { 204: { description: "Revoked." } },
});
