/**
 * Who reads which responses of a job (several annotators per row). An annotator reads
 * only their own: no annotator may see another's answers before the row is decided, or
 * the responses would stop being independent. The job's reviewers and qc, the project's
 * pm and platform admins read every response, and so does a client organization once
 * the job is reviewed (approved; annotations.service.ts refuses them before).
 */
import { sql, type SQL } from "drizzle-orm";
import type { Principal } from "../auth/principal.ts";

/** Over the `scope` CTE: whether the caller reads every response of the job. */
export function readsAllResponses(principal: Principal): SQL {
  if (principal.org_kind === "client") return sql`true`;
  return sql`(scope.caller_manages or scope.caller_reviews)`;
}

/** Over `scope`: the responses (alias `alias`) the caller may read. */
export function responseVisible(principal: Principal, alias: string): SQL {
  return sql`(${sql.raw(alias)}.annotator_id = ${principal.user_id}::integer or ${readsAllResponses(principal)})`;
}

/**
 * The response a single-response read shows for a row (the item's `annotation`, GET
 * …/annotation and its history): the caller's own when they have one, else, for a caller
 * who reads every response, the most recently saved, which with one annotator per row
 * is simply the row's annotation as before.
 */
export function shownResponseOrder(principal: Principal, alias: string): SQL {
  const a = sql.raw(alias);
  return sql`(${a}.annotator_id = ${principal.user_id}::integer) desc, ${a}.updated_at desc, ${a}.annotator_id`;
}
