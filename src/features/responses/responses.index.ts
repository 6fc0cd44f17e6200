import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./responses.handlers.ts";
import * as routes from "./responses.routes.ts";

export const responsesRouter = createRouter()
  .openapi(routes.listRowResponses, handlers.listRowResponses)
  .openapi(routes.setRowFinal, handlers.setRowFinal);
