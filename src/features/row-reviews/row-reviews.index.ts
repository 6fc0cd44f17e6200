import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./row-reviews.handlers.ts";
import * as routes from "./row-reviews.routes.ts";

export const rowReviewsRouter = createRouter().openapi(routes.setRowReview, handlers.setRowReview);
