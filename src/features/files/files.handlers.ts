import { etagOf } from "../../lib/etag.ts";
import { ifMatchVersion } from "../../lib/row-version.ts";
import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./files.routes.ts";
import * as files from "./files.service.ts";

export const listProjectFiles: AppRouteHandler<typeof routes.listProjectFiles> = async (c) =>
  c.json(await files.listProjectFiles(authenticatedContext(c), c.req.valid("param").project_id, c.req.valid("query")), 200);

export const getFile: AppRouteHandler<typeof routes.getFile> = async (c) => {
  const { file, version } = await files.getFile(authenticatedContext(c), c.req.valid("param").file_id, c.req.valid("query"));
  c.header("ETag", etagOf(version));
  return c.json(file, 200);
};

export const updateFile: AppRouteHandler<typeof routes.updateFile> = async (c) => {
  const expected = ifMatchVersion(c.req.header("if-match"));
  const { file, version } = await files.updateFile(authenticatedContext(c), c.req.valid("param").file_id, c.req.valid("json"), expected);
  c.header("ETag", etagOf(version));
  return c.json(file, 200);
};

export const deleteFile: AppRouteHandler<typeof routes.deleteFile> = async (c) => {
  await files.deleteFile(authenticatedContext(c), c.req.valid("param").file_id, ifMatchVersion(c.req.header("if-match")));
  return c.body(null, 204);
};

export const listFileVersions: AppRouteHandler<typeof routes.listFileVersions> = async (c) =>
  c.json(await files.listFileVersions(authenticatedContext(c), c.req.valid("param").file_id, c.req.valid("query")), 200);

export const getFileVersion: AppRouteHandler<typeof routes.getFileVersion> = async (c) => {
  const { fileVersion, version } = await files.getFileVersion(authenticatedContext(c), c.req.valid("param").version_id);
  c.header("ETag", etagOf(version));
  return c.json(fileVersion, 200);
};
