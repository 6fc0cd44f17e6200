import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./qc.routes.ts";
import * as qc from "./qc.service.ts";

export const getQcSample: AppRouteHandler<typeof routes.getQcSample> = async (c) =>
  c.json(await qc.getQcSample(authenticatedContext(c), c.req.valid("param").job_id), 200);
