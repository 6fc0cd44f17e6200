import { statuses, type OperationPolicy } from "./policy.ts";

/**
 * The audit log: admins, pms and client admins hold event:read (each sees what the
 * access policy lets them: everything, their projects', their organization's); client
 * members and staff do not (403). The other client reads its own organization's events.
 * The live stream has the same access; the matrix reads its status and headers only
 * (tests/helpers/http.ts closes a `text/event-stream` body unread).
 */
export const policies: OperationPolicy[] = [
  {
    operationId: "listEvents",
    request: () => ({ method: "GET", path: "/api/v1/events" }),
    expect: statuses(403, { admin: 200, pm: 200, client_admin: 200, other_client: 200 }),
  },
  {
    operationId: "streamEvents",
    request: () => ({ method: "GET", path: "/api/v1/events/stream" }),
    expect: statuses(403, { admin: 200, pm: 200, client_admin: 200, other_client: 200 }),
  },
];
