import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./dataset-profile.handlers.ts";
import * as routes from "./dataset-profile.routes.ts";

export const datasetProfileRouter = createRouter().openapi(routes.getTableProfile, handlers.getTableProfile);
