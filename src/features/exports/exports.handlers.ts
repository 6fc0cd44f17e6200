import { etagOf } from "../../lib/etag.ts";
import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./exports.routes.ts";
import * as exports from "./exports.service.ts";

export const createExport: AppRouteHandler<typeof routes.createExport> = async (c) =>
  c.json(await exports.createExport(authenticatedContext(c), c.req.valid("param").project_id, c.req.valid("json")), 201);

export const listExports: AppRouteHandler<typeof routes.listExports> = async (c) =>
  c.json(await exports.listExports(authenticatedContext(c), c.req.valid("param").project_id, c.req.valid("query")), 200);

export const getExport: AppRouteHandler<typeof routes.getExport> = async (c) => {
  const { export: found, version } = await exports.getExport(authenticatedContext(c), c.req.valid("param").export_id);
  c.header("ETag", etagOf(version));
  return c.json(found, 200);
};
