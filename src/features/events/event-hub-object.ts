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
    // A failure (a misconfigured Worker) is kept and repeats on every request, as the
    // app's does (app-shell.ts): the bindings do not change within a deployment.
    this.hub ??= import("./event-hub.ts").then(({ EventHubCore }) => new EventHubCore(this.env));
    return (await this.hub).fetch(request);
  }
}
