import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./row-reviews.routes.ts";
import * as rowReviews from "./row-reviews.service.ts";

export const setRowReview: AppRouteHandler<typeof routes.setRowReview> = async (c) => {
  const { job_id, row_index } = c.req.valid("param");
  const { review, created } = await rowReviews.setRowReview(authenticatedContext(c), job_id, row_index, c.req.valid("json"));
  return created ? c.json(review, 201) : c.json(review, 200);
};
