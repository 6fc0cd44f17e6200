/**
 * What the Worker and the event hub (event-hub.ts) say to each other, apart from the hub
 * itself so that the app's route table (and scripts that load it in Node) does not pull
 * in `cloudflare:workers`.
 */
import type { Principal } from "../auth/principal.ts";

/** A Principal as JSON (its permission set as an array), for the Worker → hub request. */
export type WirePrincipal = Omit<Principal, "permissions"> & { permissions: string[] };

/**
 * The subscriber's caller, and the event_id after which its stream starts.
 * `credentialRecheckMs` is a test seam (tests call the hub directly); the Worker never sets it.
 */
export type SubscribeRequest = { principal: WirePrincipal; after: number; credentialRecheckMs?: number };

export function toWire(principal: Principal): WirePrincipal {
  return { ...principal, permissions: [...principal.permissions] };
}

export function fromWire(principal: WirePrincipal): Principal {
  return { ...principal, permissions: new Set(principal.permissions) as Principal["permissions"] };
}

/** One hub per organization of the subscribers: the platform's admins and pms share the platform organization's. */
export function hubName(principal: Pick<Principal, "org_id">): string {
  return `org:${principal.org_id}`;
}
