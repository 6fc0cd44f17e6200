import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./exports.handlers.ts";
import * as routes from "./exports.routes.ts";

export const exportsRouter = createRouter()
  .openapi(routes.createExport, handlers.createExport)
  .openapi(routes.listExports, handlers.listExports)
  .openapi(routes.getExport, handlers.getExport);
