import { etagOf } from "../../lib/etag.ts";
import { ifMatchVersion } from "../../lib/row-version.ts";
import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./projects.routes.ts";
import * as projects from "./projects.service.ts";

export const listProjects: AppRouteHandler<typeof routes.listProjects> = async (c) =>
  c.json(await projects.listProjects(authenticatedContext(c), c.req.valid("query")), 200);

export const createProject: AppRouteHandler<typeof routes.createProject> = async (c) => {
  const { project, version } = await projects.createProject(authenticatedContext(c), c.req.valid("json"));
  c.header("ETag", etagOf(version));
  c.header("Location", `${new URL(c.req.url).pathname}/${project.project_id}`);
  return c.json(project, 201);
};

export const getProject: AppRouteHandler<typeof routes.getProject> = async (c) => {
  const { project, version } = await projects.getProject(authenticatedContext(c), c.req.valid("param").project_id, c.req.valid("query"));
  c.header("ETag", etagOf(version));
  return c.json(project, 200);
};

export const updateProject: AppRouteHandler<typeof routes.updateProject> = async (c) => {
  const version = ifMatchVersion(c.req.header("if-match"));
  const { project, version: next } = await projects.updateProject(authenticatedContext(c), c.req.valid("param").project_id, c.req.valid("json"), version);
  c.header("ETag", etagOf(next));
  return c.json(project, 200);
};

export const deleteProject: AppRouteHandler<typeof routes.deleteProject> = async (c) => {
  await projects.deleteProject(authenticatedContext(c), c.req.valid("param").project_id, ifMatchVersion(c.req.header("if-match")));
  return c.body(null, 204);
};

export const restoreProject: AppRouteHandler<typeof routes.restoreProject> = async (c) => {
  const { project, version } = await projects.restoreProject(authenticatedContext(c), c.req.valid("param").project_id);
  c.header("ETag", etagOf(version));
  return c.json(project, 200);
};
