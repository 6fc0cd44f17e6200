import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./stats.handlers.ts";
import * as routes from "./stats.routes.ts";

export const statsRouter = createRouter().openapi(routes.getProjectStats, handlers.getProjectStats);
