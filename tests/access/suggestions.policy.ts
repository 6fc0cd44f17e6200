import { statuses, type OperationPolicy } from "./policy.ts";

/**
 * Suggestions: written by whoever may update the table's file (file:update): admins,
 * the project's pm and the client organization's admin; its member sees the table but
 * may not (403); staff and the other client do not see it (404). The world's project
 * has no label schema, so any question is accepted; each actor writes under its own agent.
 */
export const policies: OperationPolicy[] = [
  {
    operationId: "upsertSuggestions",
    request: (world, actor) => ({
      method: "POST",
      path: `/api/v1/file-tables/${world.table_id}/suggestions`,
      body: { agent: `access-${actor}`, suggestions: [{ row_index: 0, question: "sentiment", value: "positive" }] },
    }),
    expect: statuses(404, { admin: 200, pm: 200, client_admin: 200, client_member: 403 }),
  },
];
