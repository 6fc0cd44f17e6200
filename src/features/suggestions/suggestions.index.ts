import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./suggestions.handlers.ts";
import * as routes from "./suggestions.routes.ts";

export const suggestionsRouter = createRouter()
  .openapi(routes.upsertSuggestions, handlers.upsertSuggestions)
  .openapi(routes.getSuggestionImport, handlers.getSuggestionImport);
