import { etagOf } from "../../lib/etag.ts";
import { ifMatchVersion } from "../../lib/row-version.ts";
import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./annotation-jobs.routes.ts";
import * as jobs from "./annotation-jobs.service.ts";

export const createAnnotationJobs: AppRouteHandler<typeof routes.createAnnotationJobs> = async (c) =>
  c.json({ data: await jobs.createJobs(authenticatedContext(c), c.req.valid("param").project_id, c.req.valid("json")) }, 201);

export const listProjectAnnotationJobs: AppRouteHandler<typeof routes.listProjectAnnotationJobs> = async (c) =>
  c.json(await jobs.listProjectJobs(authenticatedContext(c), c.req.valid("param").project_id, c.req.valid("query")), 200);

export const listAnnotationJobs: AppRouteHandler<typeof routes.listAnnotationJobs> = async (c) =>
  c.json(await jobs.listJobs(authenticatedContext(c), c.req.valid("query")), 200);

export const getAnnotationJob: AppRouteHandler<typeof routes.getAnnotationJob> = async (c) => {
  const { job, version } = await jobs.getJob(authenticatedContext(c), c.req.valid("param").job_id, c.req.valid("query"));
  c.header("ETag", etagOf(version));
  return c.json(job, 200);
};

export const updateAnnotationJob: AppRouteHandler<typeof routes.updateAnnotationJob> = async (c) => {
  const version = ifMatchVersion(c.req.header("if-match"));
  const { job, version: next } = await jobs.updateJob(authenticatedContext(c), c.req.valid("param").job_id, c.req.valid("json"), version);
  c.header("ETag", etagOf(next));
  return c.json(job, 200);
};

export const deleteAnnotationJob: AppRouteHandler<typeof routes.deleteAnnotationJob> = async (c) => {
  await jobs.deleteJob(authenticatedContext(c), c.req.valid("param").job_id, ifMatchVersion(c.req.header("if-match")));
  return c.body(null, 204);
};

export const restoreAnnotationJob: AppRouteHandler<typeof routes.restoreAnnotationJob> = async (c) => {
  const { job, version } = await jobs.restoreJob(authenticatedContext(c), c.req.valid("param").job_id);
  c.header("ETag", etagOf(version));
  return c.json(job, 200);
};
