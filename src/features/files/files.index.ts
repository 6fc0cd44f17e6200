import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./files.handlers.ts";
import * as routes from "./files.routes.ts";

export const filesRouter = createRouter()
  .openapi(routes.listProjectFiles, handlers.listProjectFiles)
  .openapi(routes.getFile, handlers.getFile)
  .openapi(routes.updateFile, handlers.updateFile)
  .openapi(routes.deleteFile, handlers.deleteFile)
  .openapi(routes.listFileVersions, handlers.listFileVersions)
  .openapi(routes.getFileVersion, handlers.getFileVersion);
