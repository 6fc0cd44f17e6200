import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./parsing.handlers.ts";
import * as routes from "./parsing.routes.ts";

export const parsingRouter = createRouter()
  .openapi(routes.listVersionTables, handlers.listVersionTables)
  .openapi(routes.listTableRows, handlers.listTableRows)
  .openapi(routes.reparseVersion, handlers.reparseVersion);
