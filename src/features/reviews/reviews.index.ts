import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./reviews.handlers.ts";
import * as routes from "./reviews.routes.ts";

export const reviewsRouter = createRouter()
  .openapi(routes.createReview, handlers.createReview)
  .openapi(routes.listReviews, handlers.listReviews);
