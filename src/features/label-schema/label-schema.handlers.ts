import { etagOf } from "../../lib/etag.ts";
import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./label-schema.routes.ts";
import * as labelSchema from "./label-schema.service.ts";

export const getLabelSchema: AppRouteHandler<typeof routes.getLabelSchema> = async (c) => {
  const schema = await labelSchema.getLabelSchema(authenticatedContext(c), c.req.valid("param").project_id);
  c.header("ETag", etagOf(labelSchema.schemaVersionTag(schema)));
  return c.json(schema, 200);
};

export const putLabelSchema: AppRouteHandler<typeof routes.putLabelSchema> = async (c) => {
  const { project_id } = c.req.valid("param");
  const expected = labelSchema.expectedSchemaVersion(c.req.header("if-match"), project_id);
  const schema = await labelSchema.putLabelSchema(authenticatedContext(c), project_id, c.req.valid("json").questions, expected);
  c.header("ETag", etagOf(labelSchema.schemaVersionTag(schema)));
  return c.json(schema, 200);
};
