import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./validations.handlers.ts";
import * as routes from "./validations.routes.ts";

export const validationsRouter = createRouter()
  .openapi(routes.getValidationRules, handlers.getValidationRules)
  .openapi(routes.putValidationRules, handlers.putValidationRules)
  .openapi(routes.createValidation, handlers.createValidation)
  .openapi(routes.getValidation, handlers.getValidation)
  .openapi(routes.listViolations, handlers.listViolations)
  .openapi(routes.downloadViolations, handlers.downloadViolations);
