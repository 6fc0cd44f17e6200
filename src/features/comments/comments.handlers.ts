import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./comments.routes.ts";
import * as comments from "./comments.service.ts";

export const createComment: AppRouteHandler<typeof routes.createComment> = async (c) =>
  c.json(await comments.createComment(authenticatedContext(c), c.req.valid("param").job_id, c.req.valid("json")), 201);

export const listComments: AppRouteHandler<typeof routes.listComments> = async (c) =>
  c.json(await comments.listComments(authenticatedContext(c), c.req.valid("param").job_id, c.req.valid("query")), 200);
