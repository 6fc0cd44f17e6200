import { freshJob } from "./annotation.policy.ts";
import { statuses, type OperationPolicy } from "./policy.ts";

/**
 * A job's QC sample is for its reviewers and qc, the project's pm and admins; its
 * annotator and the client organization get 403, the other client 404.
 */
export const policies: OperationPolicy[] = [
  {
    operationId: "getQcSample",
    request: async (world) => ({ method: "GET", path: `/api/v1/annotation-jobs/${await freshJob(world, { state: "submitted" })}/qc-sample` }),
    expect: statuses(403, { admin: 200, pm: 200, reviewer: 200, qc: 200, other_client: 404 }),
  },
];
