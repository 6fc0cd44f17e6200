import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./drafts.handlers.ts";
import * as routes from "./drafts.routes.ts";

export const draftsRouter = createRouter()
  .openapi(routes.createDraft, handlers.createDraft)
  .openapi(routes.getDraft, handlers.getDraft);
