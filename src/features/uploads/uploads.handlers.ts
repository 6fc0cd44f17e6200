import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./uploads.routes.ts";
import * as completion from "./uploads.complete.ts";
import * as uploads from "./uploads.service.ts";

export const createUpload: AppRouteHandler<typeof routes.createUpload> = async (c) =>
  c.json(await uploads.createUpload(authenticatedContext(c), c.req.valid("param").project_id, c.req.valid("json")), 201);

export const completeUpload: AppRouteHandler<typeof routes.completeUpload> = async (c) =>
  // The body is optional: a single-PUT upload is completed with none.
  c.json(await completion.completeUpload(authenticatedContext(c), c.req.valid("param").upload_id, c.req.valid("json") ?? {}), 200);

export const downloadFileVersion: AppRouteHandler<typeof routes.downloadFileVersion> = async (c) =>
  c.json(await uploads.downloadFileVersion(authenticatedContext(c), c.req.valid("param").version_id), 200);
