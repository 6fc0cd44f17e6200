import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./comments.handlers.ts";
import * as routes from "./comments.routes.ts";

export const commentsRouter = createRouter()
  .openapi(routes.createComment, handlers.createComment)
  .openapi(routes.listComments, handlers.listComments);
