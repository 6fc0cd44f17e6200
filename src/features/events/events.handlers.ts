import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./events.routes.ts";
import { EVENT_STREAM_HEADERS, openEventStream } from "./event-stream.service.ts";
import * as events from "./events.service.ts";

export const listEvents: AppRouteHandler<typeof routes.listEvents> = async (c) =>
  c.json(await events.listEvents(authenticatedContext(c), c.req.valid("query")), 200);

export const streamEvents: AppRouteHandler<typeof routes.streamEvents> = async (c) => {
  const lastEventId = c.req.valid("header")["last-event-id"];
  const stream = await openEventStream(authenticatedContext(c), c.get("config").EVENT_HUB, lastEventId === undefined ? undefined : Number(lastEventId));
  return c.body(stream, 200, EVENT_STREAM_HEADERS);
};
