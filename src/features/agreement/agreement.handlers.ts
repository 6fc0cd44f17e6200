import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./agreement.routes.ts";
import * as agreement from "./agreement.service.ts";

export const getAgreement: AppRouteHandler<typeof routes.getAgreement> = async (c) => {
  const figures = await agreement.getAgreement(authenticatedContext(c), c.req.valid("param").project_id, c.req.valid("query"));
  return c.json(figures, 200);
};
