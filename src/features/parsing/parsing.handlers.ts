import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./parsing.routes.ts";
import * as parsing from "./parsing.service.ts";

export const listVersionTables: AppRouteHandler<typeof routes.listVersionTables> = async (c) =>
  c.json(await parsing.listTables(authenticatedContext(c), c.req.valid("param").version_id), 200);

export const listTableRows: AppRouteHandler<typeof routes.listTableRows> = async (c) =>
  c.json(await parsing.listRows(authenticatedContext(c), c.req.valid("param").table_id, c.req.valid("query")), 200);

export const reparseVersion: AppRouteHandler<typeof routes.reparseVersion> = async (c) =>
  c.json(await parsing.requestReparse(authenticatedContext(c), c.req.valid("param").version_id, c.get("config").PARSE_QUEUE), 202);
