import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./qc.handlers.ts";
import * as routes from "./qc.routes.ts";

export const qcRouter = createRouter().openapi(routes.getQcSample, handlers.getQcSample);
