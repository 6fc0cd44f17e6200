import { statuses, type OperationPolicy } from "./policy.ts";

/**
 * Search answers everyone signed in: what it finds is limited to what the caller's own
 * lists show (projects, files, jobs, comments), which tests/search.test.ts checks per
 * actor; a status can only say that nobody is refused.
 */
export const policies: OperationPolicy[] = [
  {
    operationId: "search",
    request: () => ({ method: "GET", path: "/api/v1/search?q=annotation" }),
    expect: statuses(200, {}),
  },
];
