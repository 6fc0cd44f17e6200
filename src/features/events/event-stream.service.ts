/**
 * The Worker's half of GET /events/stream: checks the caller, fixes the start point with
 * the request's one (guarded) round trip, and hands the connection to the hub of the
 * caller's organization (event-hub.ts), whose stream it answers with.
 */
import { sql } from "drizzle-orm";
import { ApiError } from "../../lib/errors.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { can } from "../auth/principal.ts";
import { hubName, toWire, type SubscribeRequest } from "./event-hub-protocol.ts";

export const EVENT_STREAM_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
};

export async function openEventStream(ctx: AuthenticatedContext, hubs: DurableObjectNamespace, lastEventId: number | undefined): Promise<ReadableStream> {
  if (!can(ctx.principal, "event:read")) throw new ApiError("forbidden", "Your role does not allow this (event:read is required).");
  // Before the answer starts: a revoked credential is a 401 here, not a stream that never speaks.
  const result = await ctx.db.execute(sql`select coalesce(max(event_id), 0)::text as newest from event_log`);
  const newest = Number((result.rows[0] as { newest: string }).newest);
  // An id beyond the newest names nothing yet: resume from the newest, so no later event is skipped.
  const after = lastEventId === undefined ? newest : Math.min(lastEventId, newest);
  const hub = hubs.get(hubs.idFromName(hubName(ctx.principal)));
  const subscribe: SubscribeRequest = { principal: toWire(ctx.principal), after };
  const response = await hub.fetch("https://event-hub/subscribe", { method: "POST", body: JSON.stringify(subscribe) });
  if (!response.ok || !response.body) throw new Error(`the event hub answered ${response.status}`);
  return response.body;
}
