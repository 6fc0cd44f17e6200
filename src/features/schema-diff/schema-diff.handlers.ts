import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./schema-diff.routes.ts";
import * as schemaDiff from "./schema-diff.service.ts";

export const getSchemaDiff: AppRouteHandler<typeof routes.getSchemaDiff> = async (c) =>
  c.json(await schemaDiff.getSchemaDiff(authenticatedContext(c), c.req.valid("param").version_id), 200);
