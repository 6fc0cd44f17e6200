import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./suggestions.routes.ts";
import * as suggestions from "./suggestions.service.ts";

export const upsertSuggestions: AppRouteHandler<typeof routes.upsertSuggestions> = async (c) => {
  const result = await suggestions.upsertSuggestions(authenticatedContext(c), c.req.valid("param").table_id, c.req.valid("json"));
  return c.json(result, 200);
};

export const getSuggestionImport: AppRouteHandler<typeof routes.getSuggestionImport> = async (c) =>
  c.json(await suggestions.getSuggestionImport(authenticatedContext(c), c.req.valid("param").version_id), 200);
