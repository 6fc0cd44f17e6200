import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./agreement.handlers.ts";
import * as routes from "./agreement.routes.ts";

export const agreementRouter = createRouter().openapi(routes.getAgreement, handlers.getAgreement);
