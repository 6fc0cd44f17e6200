import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./drafts.routes.ts";
import * as drafts from "./drafts.service.ts";

export const createDraft: AppRouteHandler<typeof routes.createDraft> = async (c) =>
  c.json(await drafts.createDraft(authenticatedContext(c), c.req.valid("param").table_id, c.req.valid("json")), 202);

export const getDraft: AppRouteHandler<typeof routes.getDraft> = async (c) =>
  c.json(await drafts.getDraft(authenticatedContext(c), c.req.valid("param").draft_id), 200);
