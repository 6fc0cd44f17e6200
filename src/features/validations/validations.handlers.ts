import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import * as rules from "./validation-rules.service.ts";
import type * as routes from "./validations.routes.ts";
import * as validations from "./validations.service.ts";
import { violationsCsv } from "./violations-csv.ts";

export const getValidationRules: AppRouteHandler<typeof routes.getValidationRules> = async (c) =>
  c.json(await rules.getValidationRules(authenticatedContext(c), c.req.valid("param").project_id), 200);

export const putValidationRules: AppRouteHandler<typeof routes.putValidationRules> = async (c) =>
  c.json(await rules.putValidationRules(authenticatedContext(c), c.req.valid("param").project_id, c.req.valid("json").rules), 200);

export const createValidation: AppRouteHandler<typeof routes.createValidation> = async (c) =>
  c.json(await validations.createValidation(authenticatedContext(c), c.req.valid("param").table_id), 202);

export const getValidation: AppRouteHandler<typeof routes.getValidation> = async (c) =>
  c.json(await validations.getValidation(authenticatedContext(c), c.req.valid("param").validation_id), 200);

export const listViolations: AppRouteHandler<typeof routes.listViolations> = async (c) =>
  c.json(await validations.listViolations(authenticatedContext(c), c.req.valid("param").validation_id, c.req.valid("query")), 200);

export const downloadViolations: AppRouteHandler<typeof routes.downloadViolations> = async (c) => {
  const validationId = c.req.valid("param").validation_id;
  const body = await violationsCsv(authenticatedContext(c), validationId);
  return c.body(body, 200, {
    "content-type": "text/csv; charset=utf-8; header=present",
    "content-disposition": `attachment; filename="validation-${validationId}-violations.csv"`,
  });
};
