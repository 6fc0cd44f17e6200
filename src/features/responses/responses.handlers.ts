import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./responses.routes.ts";
import * as responses from "./responses.service.ts";

export const listRowResponses: AppRouteHandler<typeof routes.listRowResponses> = async (c) => {
  const { job_id, row_index } = c.req.valid("param");
  return c.json(await responses.listRowResponses(authenticatedContext(c), job_id, row_index), 200);
};

export const setRowFinal: AppRouteHandler<typeof routes.setRowFinal> = async (c) => {
  const { job_id, row_index } = c.req.valid("param");
  const decision = await responses.setRowFinal(authenticatedContext(c), job_id, row_index, c.req.valid("json").data);
  return decision.version === 1 ? c.json(decision, 201) : c.json(decision, 200);
};
