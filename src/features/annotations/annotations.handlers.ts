import { etagOf } from "../../lib/etag.ts";
import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./annotations.routes.ts";
import * as annotations from "./annotations.service.ts";
import { listItems } from "../responses/response-items.ts";

export const listJobItems: AppRouteHandler<typeof routes.listJobItems> = async (c) =>
  c.json(await listItems(authenticatedContext(c), c.req.valid("param").job_id, c.req.valid("query")), 200);

export const getAnnotation: AppRouteHandler<typeof routes.getAnnotation> = async (c) => {
  const { job_id, row_index } = c.req.valid("param");
  const annotation = await annotations.getAnnotation(authenticatedContext(c), job_id, row_index);
  c.header("ETag", etagOf(annotations.annotationVersionTag(annotation)));
  return c.json(annotation, 200);
};

export const saveAnnotation: AppRouteHandler<typeof routes.saveAnnotation> = async (c) => {
  const { job_id, row_index } = c.req.valid("param");
  const ctx = authenticatedContext(c);
  const expected = annotations.expectedVersion(c.req.header("if-match"), job_id, row_index, ctx.principal.user_id);
  const { data, lead_time_ms } = c.req.valid("json");
  const annotation = await annotations.saveAnnotation(ctx, job_id, row_index, data, expected, lead_time_ms ?? null);
  c.header("ETag", etagOf(annotations.annotationVersionTag(annotation)));
  return annotation.version === 1 ? c.json(annotation, 201) : c.json(annotation, 200);
};

export const listAnnotationHistory: AppRouteHandler<typeof routes.listAnnotationHistory> = async (c) => {
  const { job_id, row_index } = c.req.valid("param");
  return c.json(await annotations.listHistory(authenticatedContext(c), job_id, row_index, c.req.valid("query")), 200);
};
