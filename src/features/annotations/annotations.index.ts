import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./annotations.handlers.ts";
import * as routes from "./annotations.routes.ts";

export const annotationsRouter = createRouter()
  .openapi(routes.listJobItems, handlers.listJobItems)
  .openapi(routes.getAnnotation, handlers.getAnnotation)
  .openapi(routes.saveAnnotation, handlers.saveAnnotation)
  .openapi(routes.listAnnotationHistory, handlers.listAnnotationHistory);
