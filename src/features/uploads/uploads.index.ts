import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./uploads.handlers.ts";
import * as routes from "./uploads.routes.ts";

export const uploadsRouter = createRouter()
  .openapi(routes.createUpload, handlers.createUpload)
  .openapi(routes.completeUpload, handlers.completeUpload)
  .openapi(routes.downloadFileVersion, handlers.downloadFileVersion);
