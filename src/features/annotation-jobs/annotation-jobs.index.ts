import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./annotation-jobs.handlers.ts";
import * as routes from "./annotation-jobs.routes.ts";

export const annotationJobsRouter = createRouter()
  .openapi(routes.createAnnotationJobs, handlers.createAnnotationJobs)
  .openapi(routes.listProjectAnnotationJobs, handlers.listProjectAnnotationJobs)
  .openapi(routes.listAnnotationJobs, handlers.listAnnotationJobs)
  .openapi(routes.getAnnotationJob, handlers.getAnnotationJob)
  .openapi(routes.updateAnnotationJob, handlers.updateAnnotationJob)
  .openapi(routes.deleteAnnotationJob, handlers.deleteAnnotationJob)
  .openapi(routes.restoreAnnotationJob, handlers.restoreAnnotationJob);
