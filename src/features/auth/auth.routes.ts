import { z } from "@hono/zod-openapi";
import { problem } from "../../lib/openapi-responses.ts";
import { protectedRoute, publicRoute } from "../../lib/routes.ts";

const TAG = "Auth";

const email = z.email().max(254).openapi({ example: "admin@client.test" });
// OWASP ASVS: at least 12 characters, at most 128 (bounded hashing cost), no composition rules.
const newPassword = z.string().min(12, "must be at least 12 characters").max(128).openapi({ example: "correct horse battery" });

export const TokenPairSchema = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int().openapi({ description: "Seconds until the access token expires." }),
  })
  .openapi("TokenPair");

const json = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } }, required: true });
const tokens = (description: string) => ({ description, content: { "application/json": { schema: TokenPairSchema } } });

export const register = publicRoute({
  method: "post",
  path: "/auth/register",
  operationId: "register",
  returnsSecret: true,
  tags: [TAG],
  summary: "Create a client organization and its client_admin, signed in",
  request: {
    body: json(
      z.object({
        email,
        password: newPassword,
        full_name: z.string().trim().min(1).max(200),
        organization_name: z.string().trim().min(1).max(200),
      }),
    ),
  },
  responses: {
    201: tokens("The organization and account exist; the caller is signed in."),
    ...problem("conflict", "The email or the organization name is taken, the Idempotency-Key is in use by a request still running, or it was used already (`idempotency_key_used`: answers carrying tokens are never replayed)."),
    ...problem("rate_limited", "Too many registrations from this address."),
  },
});

export const login = publicRoute({
  method: "post",
  path: "/auth/login",
  operationId: "login",
  returnsSecret: true,
  tags: [TAG],
  summary: "Sign in with email and password",
  request: { body: json(z.object({ email, password: z.string().min(1).max(128) })) },
  responses: {
    200: tokens("Signed in."),
    ...problem("unauthorized", "The email or password is incorrect (the answer does not say which)."),
    ...problem("conflict", "The Idempotency-Key is in use by a request still running, or was used already (`idempotency_key_used`: answers carrying tokens are never replayed)."),
    ...problem("rate_limited", "Too many attempts for this account or from this address."),
  },
});

const refreshBody = json(z.object({ refresh_token: z.string().min(1).max(200) }));

export const refresh = publicRoute({
  method: "post",
  path: "/auth/refresh",
  operationId: "refreshTokens",
  returnsSecret: true,
  tags: [TAG],
  summary: "Exchange a refresh token for a new pair (the old one stops working)",
  request: { body: refreshBody },
  responses: {
    200: tokens("A new access token and a new refresh token."),
    ...problem("unauthorized", "Invalid, expired or revoked; a reused token also revokes its whole family."),
    ...problem("conflict", "The Idempotency-Key is in use by a request still running, or was used already (`idempotency_key_used`: answers carrying tokens are never replayed)."),
  },
});

export const logout = publicRoute({
  method: "post",
  path: "/auth/logout",
  operationId: "logout",
  tags: [TAG],
  summary: "Revoke a refresh token and every token rotated from the same sign-in",
  request: { body: refreshBody },
  responses: {
    204: { description: "Signed out (also when the token was unknown or already revoked)." },
    ...problem("conflict", "The Idempotency-Key is in use by a request still running."),
  },
});

const CurrentUserSchema = z
  .object({
    user: z.object({
      user_id: z.number().int(),
      email: z.string(),
      full_name: z.string(),
      is_active: z.boolean(),
      last_login_at: z.string().nullable(),
      created_at: z.string(),
      updated_at: z.string(),
    }),
    organization: z.object({ org_id: z.number().int(), name: z.string(), kind: z.enum(["platform", "client"]), created_at: z.string() }),
    roles: z.array(z.string()),
    permissions: z.array(z.string()),
    credential: z.enum(["access_token", "api_token"]),
  })
  .openapi("CurrentUser");

export const me = protectedRoute({
  method: "get",
  path: "/auth/me",
  operationId: "getCurrentUser",
  tags: [TAG],
  summary: "The caller: user, organization, roles and effective permissions",
  responses: {
    200: { description: "The signed-in user.", content: { "application/json": { schema: CurrentUserSchema } } },
  },
});

export const updateMe = protectedRoute({
  method: "patch",
  path: "/auth/me",
  operationId: "updateCurrentUser",
  tags: [TAG],
  summary: "Change your own name or password (a password change ends every other session)",
  request: {
    body: json(
      z
        .object({
          full_name: z.string().trim().min(1).max(200).optional(),
          password: newPassword.optional(),
          current_password: z.string().min(1).max(128).optional().openapi({ description: "Required with `password`." }),
        })
        .strict()
        .refine((body) => body.full_name !== undefined || body.password !== undefined, "send full_name or password"),
    ),
  },
  responses: {
    200: {
      description:
        "The updated account. After a password change it also carries a new `access_token` for this session: every other " +
        "session, every access token issued before and every API token stop working; this session's refresh token goes on.",
      content: {
        "application/json": {
          schema: CurrentUserSchema.extend({
            access_token: z.string().optional(),
            token_type: z.literal("Bearer").optional(),
            expires_in: z.number().int().optional(),
          }).openapi("UpdatedCurrentUser"),
        },
      },
    },
    ...problem("conflict", "The password was changed by a concurrent request."),
    ...problem("rate_limited", "Too many password attempts for this account."),
  },
});
