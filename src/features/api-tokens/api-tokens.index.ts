import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./api-tokens.handlers.ts";
import * as routes from "./api-tokens.routes.ts";

export const apiTokensRouter = createRouter()
  .openapi(routes.createApiToken, handlers.createApiToken)
  .openapi(routes.listApiTokens, handlers.listApiTokens)
  .openapi(routes.revokeApiToken, handlers.revokeApiToken);
