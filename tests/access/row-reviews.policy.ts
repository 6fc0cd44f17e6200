import { freshJob } from "./annotation.policy.ts";
import { statuses, type OperationPolicy } from "./policy.ts";

/**
 * Row verdicts are a reviewer's: the job's reviewers and qc, the project's pm and admins
 * give them on a submitted job; its annotator and the client organization get 403, the
 * other client 404.
 */
export const policies: OperationPolicy[] = [
  {
    operationId: "setRowReview",
    request: async (world) => ({
      method: "PUT",
      path: `/api/v1/annotation-jobs/${await freshJob(world, { state: "submitted" })}/items/1/review`,
      body: { verdict: "rejected", reason: "The label is wrong." },
    }),
    expect: statuses(403, { admin: 201, pm: 201, reviewer: 201, qc: 201, other_client: 404 }),
  },
];
