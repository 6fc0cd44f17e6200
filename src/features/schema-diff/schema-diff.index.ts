import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./schema-diff.handlers.ts";
import * as routes from "./schema-diff.routes.ts";

export const schemaDiffRouter = createRouter().openapi(routes.getSchemaDiff, handlers.getSchemaDiff);
