import { statuses, type OperationPolicy } from "./policy.ts";

/**
 * Agreement is made of every annotator's responses, so it is read by whoever reads them
 * all: the project's pm, admins, the job's reviewer and qc, and the client organization
 * (over its reviewed jobs: the world's job is not, so its figures are empty, but the
 * answer is 200). The annotator reads only their own responses: 403. Another client
 * does not see the project: 404.
 */
export const policies: OperationPolicy[] = [
  {
    operationId: "getAgreement",
    request: (world) => ({ method: "GET", path: `/api/v1/projects/${world.project_id}/agreement` }),
    expect: statuses(200, { annotator: 403, other_client: 404 }),
  },
];
