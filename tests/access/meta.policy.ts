import { statuses, type OperationPolicy } from "./policy.ts";

/** Health checks are public: load balancers and uptime probes call them without credentials. */
export const policies: OperationPolicy[] = [
  { operationId: "getHealth", request: () => ({ method: "GET", path: "/health" }), expect: statuses(200, {}) },
  { operationId: "getDatabaseHealth", request: () => ({ method: "GET", path: "/health/db" }), expect: statuses(200, {}) },
];
