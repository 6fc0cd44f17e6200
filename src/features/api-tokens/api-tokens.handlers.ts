import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./api-tokens.routes.ts";
import * as tokens from "./api-tokens.service.ts";

export const createApiToken: AppRouteHandler<typeof routes.createApiToken> = async (c) =>
  c.json(await tokens.createApiToken(authenticatedContext(c), c.req.valid("json")), 201);

export const listApiTokens: AppRouteHandler<typeof routes.listApiTokens> = async (c) =>
  c.json(await tokens.listApiTokens(authenticatedContext(c), c.req.valid("query")), 200);

export const revokeApiToken: AppRouteHandler<typeof routes.revokeApiToken> = async (c) => {
  await tokens.revokeApiToken(authenticatedContext(c), c.req.valid("param").token_id);
  return c.body(null, 204);
};
