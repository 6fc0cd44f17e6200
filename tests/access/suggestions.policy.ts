import { sql, testDb } from "../helpers/db.ts";
import { statuses, type OperationPolicy, type World } from "./policy.ts";

/**
 * Suggestions: written by whoever may update the table's file (file:update): admins,
 * the project's pm and the client organization's admin; its member sees the table but
 * may not (403); staff and the other client do not see it (404). The world's project
 * has no label schema, so any question is accepted; each actor writes under its own agent.
 * An llm_output import's report is read like the file (file:read).
 */

/** An llm_output version of the world's project importing into its table (no bytes: only its report is read). */
async function llmOutputVersion(world: World): Promise<number> {
  const result = await testDb().execute(sql`
    with created_file as (
      insert into file (project_id, org_id, filename, content_type, file_type)
      values (${world.project_id}, ${world.client_org_id}, 'answers.jsonl', 'application/x-ndjson', 'llm_output') returning file_id
    ), version as (
      insert into file_version (file_id, filename, r2_key, size_bytes, content_type)
      select file_id, 'answers.jsonl', ${`tests/access/${crypto.randomUUID()}`}, 10, 'application/x-ndjson' from created_file
      returning version_id
    ), import as (
      insert into suggestion_import (version_id, target_table_id) select version_id, ${world.table_id}::integer from version
    )
    select version_id from version`);
  return (result.rows[0] as { version_id: number }).version_id;
}

/** One llm_output version per world, shared by the actors (they only read it). */
const importVersions = new Map<number, Promise<number>>();

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
  {
    operationId: "getSuggestionImport",
    request: async (world) => {
      if (!importVersions.has(world.table_id)) importVersions.set(world.table_id, llmOutputVersion(world));
      return { method: "GET", path: `/api/v1/file-versions/${await importVersions.get(world.table_id)}/suggestion-import` };
    },
    expect: statuses(404, { admin: 200, pm: 200, client_admin: 200, client_member: 200 }),
  },
];
