import { freshJob } from "./annotation.policy.ts";
import { statuses, type OperationPolicy } from "./policy.ts";

/**
 * Several annotators per row: every response to a row is for the job's reviewers and qc,
 * the project's pm and admins; an annotator reads only their own (403 here); the client
 * organization, whose job is not reviewed, gets 403; the other client sees nothing (404).
 * Deciding a row's final value is a reviewer's (or the pm's, or an admin's).
 */
export const policies: OperationPolicy[] = [
  {
    operationId: "listRowResponses",
    request: async (world) => ({ method: "GET", path: `/api/v1/annotation-jobs/${await freshJob(world, { state: "in_progress" })}/items/1/responses` }),
    expect: statuses(403, { admin: 200, pm: 200, reviewer: 200, qc: 200, other_client: 404 }),
  },
  {
    operationId: "setRowFinal",
    request: async (world) => ({
      method: "PUT",
      path: `/api/v1/annotation-jobs/${await freshJob(world, { state: "in_progress" })}/items/1/final`,
      body: { data: { label: "decided" } },
    }),
    expect: statuses(403, { admin: 201, pm: 201, reviewer: 201, qc: 201, other_client: 404 }),
  },
];
