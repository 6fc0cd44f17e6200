/**
 * The Durable Object class wrangler.toml binds as EVENT_HUB. It is exported by the API
 * Worker's entry, so it is evaluated whenever an API isolate starts: the hub's code
 * (event-hub.ts, with drizzle, the driver and the access rules) is imported on the
 * object's first request instead (README "Two Workers").
 */
import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../../env.ts";
import type { EventHubCore } from "./event-hub.ts";

export class EventHub extends DurableObject<Bindings> {
  private hub: Promise<EventHubCore> | undefined;

  override async fetch(request: Request): Promise<Response> {
    this.hub ??= import("./event-hub.ts").then(
      ({ EventHubCore }) => new EventHubCore(this.env),
      (error: unknown) => {
        // Not kept: the next request tries again.
        this.hub = undefined;
        throw error;
      },
    );
    return (await this.hub).fetch(request);
  }
}
