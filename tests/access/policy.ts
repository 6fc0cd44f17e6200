/**
 * The access matrix's contract. Every operation in /openapi.json must have an
 * OperationPolicy (tests/access/*.policy.ts, one file per feature), or the matrix test
 * fails: a new endpoint cannot ship without saying who may call it.
 *
 * For each actor the policy names the exact status the operation answers on the shared
 * world (tests/access/world.ts). `other_client` is a client_admin of another
 * organization: for operations on the world's resources it must be 404.
 */
import type { Account } from "../helpers/factories.ts";

export const ACTORS = ["admin", "pm", "annotator", "reviewer", "qc", "client_admin", "client_member", "other_client"] as const;
export type Actor = (typeof ACTORS)[number];

/**
 * Resources every policy may use. The client organization owns `project` (our_pm = pm);
 * `job` is cut from `table` (of `file`'s version) and assigned to annotator (annotator),
 * reviewer (reviewer) and qc (qc). `other_client` belongs to `other_org_id`, which owns
 * `other_project`.
 */
export type World = {
  accounts: Record<Actor, Account>;
  platform_org_id: number;
  client_org_id: number;
  other_org_id: number;
  project_id: number;
  other_project_id: number;
  file_id: number;
  version_id: number;
  table_id: number;
  job_id: number;
};

export type RequestSpec = { method: string; path: string; body?: unknown; headers?: Record<string, string> };

export type OperationPolicy = {
  operationId: string;
  /**
   * The request this actor makes. Operations that change or delete something should
   * create a fresh target here (through the API with an authorised account, or
   * tests/helpers factories) so actors do not affect each other.
   */
  request: (world: World, actor: Actor) => RequestSpec | Promise<RequestSpec>;
  /** Expected status per actor. */
  expect: Record<Actor, number>;
  /**
   * Waits for background work the accepted requests started (a queued parse), so that it
   * ends inside the matrix's file instead of running while other files do.
   */
  settle?: () => Promise<void>;
};

/** `statuses(403, { admin: 200, pm: 200 })`: every actor answers `otherwise` except those named. */
export function statuses(otherwise: number, overrides: Partial<Record<Actor, number>>): Record<Actor, number> {
  return Object.fromEntries(ACTORS.map((actor) => [actor, overrides[actor] ?? otherwise])) as Record<Actor, number>;
}
