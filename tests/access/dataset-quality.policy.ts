import { sql, testDb } from "../helpers/db.ts";
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

const RULES = [{ column: "n", rule: "range", min: 0, max: 1 }];

/** The world's project with rules, so a validation can be requested on its table. */
let withRules: Promise<void> | undefined;

function projectRules(world: World) {
  withRules ??= testDb()
    .execute(sql`insert into project_validation_rules (project_id, org_id, rules) values (${world.project_id}, ${world.client_org_id}, ${JSON.stringify(RULES)}::jsonb)
      on conflict (project_id) do nothing`)
    .then(() => undefined);
  return withRules;
}

/** A finished run on the world's table, written straight to the database, to be read. */
let finishedRun: Promise<number> | undefined;

function worldRun(world: World) {
  finishedRun ??= testDb()
    .execute(sql`insert into validation_run (project_id, org_id, table_id, rules, status, next_row, total_rows, finished_at)
      select ${world.project_id}, ${world.client_org_id}, t.table_id, ${JSON.stringify(RULES)}::jsonb, 'succeeded', t.row_count, t.row_count, now()
      from file_table t where t.table_id = ${world.table_id} returning validation_id`)
    .then((result) => (result.rows[0] as { validation_id: number }).validation_id);
  return finishedRun;
}

/** The table validations were requested on; settled after the matrix. */
let validatedTable: number | undefined;

/** Waits for the runs accepted requests queued, so no consumer works on the world after the matrix. */
async function runsSettled() {
  if (validatedTable === undefined) return;
  for (let attempt = 0; attempt < 150; attempt++) {
    const result = await testDb().execute(sql`select count(*)::int as open from validation_run where table_id = ${validatedTable} and status in ('queued', 'running')`);
    if ((result.rows[0] as { open: number }).open === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Rules follow the project: read with project:read wherever the project is visible,
 * replaced with project:update. Staff see the project through their jobs but hold
 * neither permission: 403, as for the project itself.
 */
const STAFF_REFUSED = { annotator: 403, reviewer: 403, qc: 403 } as const;
const RULE_READERS = { admin: 200, pm: 200, client_admin: 200, client_member: 200, ...STAFF_REFUSED } as const;

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
  {
    operationId: "getValidationRules",
    request: (world) => ({ method: "GET", path: `/api/v1/projects/${world.project_id}/validation-rules` }),
    expect: statuses(404, RULE_READERS),
  },
  {
    operationId: "putValidationRules",
    request: async (world) => {
      await projectRules(world);
      return { method: "PUT", path: `/api/v1/projects/${world.project_id}/validation-rules`, body: { rules: RULES } };
    },
    expect: statuses(404, { admin: 200, pm: 200, client_admin: 200, client_member: 403, ...STAFF_REFUSED }),
  },
  {
    operationId: "createValidation",
    request: async (world) => {
      await projectRules(world);
      validatedTable = world.table_id;
      return { method: "POST", path: `/api/v1/file-tables/${world.table_id}/validations` };
    },
    expect: statuses(404, { admin: 202, pm: 202, client_admin: 202, client_member: 403 }),
    settle: runsSettled,
  },
  {
    operationId: "getValidation",
    request: async (world) => ({ method: "GET", path: `/api/v1/validations/${await worldRun(world)}` }),
    expect: statuses(404, READERS),
  },
  {
    operationId: "listViolations",
    request: async (world) => ({ method: "GET", path: `/api/v1/validations/${await worldRun(world)}/violations` }),
    expect: statuses(404, READERS),
  },
  {
    operationId: "downloadViolations",
    request: async (world) => ({ method: "GET", path: `/api/v1/validations/${await worldRun(world)}/violations.csv` }),
    expect: statuses(404, READERS),
  },
];
