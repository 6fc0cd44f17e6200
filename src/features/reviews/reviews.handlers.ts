import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./reviews.routes.ts";
import * as reviews from "./reviews.service.ts";

export const createReview: AppRouteHandler<typeof routes.createReview> = async (c) =>
  c.json(await reviews.createReview(authenticatedContext(c), c.req.valid("param").job_id, c.req.valid("json")), 201);

export const listReviews: AppRouteHandler<typeof routes.listReviews> = async (c) =>
  c.json(await reviews.listReviews(authenticatedContext(c), c.req.valid("param").job_id, c.req.valid("query")), 200);
