import { parsedCsv } from "../helpers/quality.ts";
import { statuses, type OperationPolicy, type World } from "./policy.ts";

/**
 * Dataset quality follows the table's file, as its rows do (parsing.policy.ts): readers
 * with file:read see it, staff (who work through jobs) and the other client get 404.
 * The world's own table is written without a parse, so a second file of the world's
 * project is parsed for real, once, to have a profile and a parsed version.
 */
const READERS = { admin: 200, pm: 200, client_admin: 200, client_member: 200 } as const;

let parsed: ReturnType<typeof parsedCsv> | undefined;

function parsedFile(world: World) {
  parsed ??= parsedCsv({ project_id: world.project_id, org_id: world.client_org_id }, "text,n\nfirst,1\nsecond,2\n");
  return parsed;
}

export const policies: OperationPolicy[] = [
  {
    operationId: "getTableProfile",
    request: async (world) => ({ method: "GET", path: `/api/v1/file-tables/${(await parsedFile(world)).table_id}/profile` }),
    expect: statuses(404, READERS),
  },
  {
    operationId: "getSchemaDiff",
    request: async (world) => ({ method: "GET", path: `/api/v1/file-versions/${(await parsedFile(world)).version_id}/schema-diff` }),
    expect: statuses(404, READERS),
  },
];
