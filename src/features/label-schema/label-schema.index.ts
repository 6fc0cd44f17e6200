import { createRouter } from "../../lib/create-router.ts";
import * as handlers from "./label-schema.handlers.ts";
import * as routes from "./label-schema.routes.ts";

export const labelSchemaRouter = createRouter()
  .openapi(routes.getLabelSchema, handlers.getLabelSchema)
  .openapi(routes.putLabelSchema, handlers.putLabelSchema);
