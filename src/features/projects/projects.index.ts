import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./projects.handlers.ts";
import * as routes from "./projects.routes.ts";

export const projectsRouter = createRouter()
  .openapi(routes.listProjects, handlers.listProjects)
  .openapi(routes.createProject, handlers.createProject)
  .openapi(routes.getProject, handlers.getProject)
  .openapi(routes.updateProject, handlers.updateProject)
  .openapi(routes.deleteProject, handlers.deleteProject)
  .openapi(routes.restoreProject, handlers.restoreProject);
