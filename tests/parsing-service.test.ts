import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { PermissionName, RoleName } from "../src/db/seed/catalog.ts";
import { loadConfig } from "../src/env.ts";
import type { Principal } from "../src/features/auth/principal.ts";
import { DEFAULT_PARSE_OPTIONS, runParseMessage } from "../src/features/parsing/parse-run.ts";
import { listRows, listTables, requestReparse } from "../src/features/parsing/parsing.service.ts";
import { createLogger } from "../src/lib/logger.ts";
import type { AuthenticatedContext } from "../src/lib/service-context.ts";
import type { ParseMessage } from "../src/queues/messages.ts";
import { testDb } from "./helpers/db.ts";
import { unique } from "./helpers/factories.ts";
import { createParseTarget, parseDependencies, parseSnapshot, recordingQueue, type ParseTarget } from "./helpers/parse.ts";

/** The service functions behind GET …/tables, GET …/rows and POST …/reparse, with the access policy's defaults. */
const encoder = new TextEncoder();

function csv(rows: number, label = "row"): Uint8Array {
  return encoder.encode(["n,label", ...Array.from({ length: rows }, (_, i) => `${i},${label} ${i}`)].join("\n"));
}

async function contextFor(orgId: number, permissions: PermissionName[], role: RoleName = "client_admin"): Promise<AuthenticatedContext> {
  const created = await testDb().execute(sql`
    insert into "user" (org_id, email, full_name, password_hash)
    values (${orgId}, ${`${unique("parser")}@example.test`}, 'Parse Tester', 'not-a-real-hash') returning user_id`);
  const principal: Principal = {
    user_id: (created.rows[0] as { user_id: number }).user_id,
    org_id: orgId,
    org_kind: "client",
    roles: [role],
    permissions: new Set(permissions),
    credentials_version: 0,
    credential: { kind: "access_token", session_id: null },
  };
  return { db: testDb(), config: loadConfig(env), logger: createLogger({ test: "parsing-service" }, "error"), requestId: unique("request"), principal, idempotency: null };
}

async function parsed(bytes: Uint8Array): Promise<ParseTarget> {
  const target = await createParseTarget({ filename: "rows.csv", contentType: "text/csv", bytes });
  await runParseMessage({ kind: "parse", version_id: target.version_id }, parseDependencies(recordingQueue().queue));
  return target;
}

async function deliverAll(first: ParseMessage, sent: ParseMessage[]) {
  const deps = parseDependencies(recordingQueue().queue);
  const outcomes = [];
  for (let next: ParseMessage | undefined = first; next; next = sent.shift()) outcomes.push(await runParseMessage(next, deps, DEFAULT_PARSE_OPTIONS));
  return outcomes;
}

describe("listTables and listRows", () => {
  it("lists a version's tables and pages through rows by row_index", async () => {
    const target = await parsed(csv(40));
    const ctx = await contextFor(target.org_id, ["file:read"]);
    const { data: tables } = await listTables(ctx, target.version_id);
    expect(tables).toEqual([
      {
        table_id: expect.any(Number),
        name: "rows",
        columns: [
          { name: "n", type: "integer", nullable: false },
          { name: "label", type: "string", nullable: false },
        ],
        row_count: 40,
      },
    ]);

    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await listRows(ctx, tables[0]!.table_id, { limit: 15, cursor });
      seen.push(...page.data.map((row) => row.row_index));
      expect(page.data[0]?.data).toEqual({ n: String(seen.at(-page.data.length)), label: `row ${seen.at(-page.data.length)}` });
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...Array(40).keys()]);
  });

  it("answers 404 to another organization and 403 without file:read", async () => {
    const target = await parsed(csv(3));
    const owner = await contextFor(target.org_id, ["file:read"]);
    const tableId = (await listTables(owner, target.version_id)).data[0]!.table_id;
    const other = await createParseTarget({ filename: "x.csv", contentType: "text/csv", bytes: csv(1) });
    const outsider = await contextFor(other.org_id, ["file:read"]);
    await expect(listTables(outsider, target.version_id)).rejects.toMatchObject({ code: "not_found" });
    await expect(listRows(outsider, tableId, { limit: 10 })).rejects.toMatchObject({ code: "not_found" });
    const blind = await contextFor(target.org_id, []);
    await expect(listTables(blind, target.version_id)).rejects.toMatchObject({ code: "forbidden" });
    await expect(listRows(blind, tableId, { limit: 10 })).rejects.toMatchObject({ code: "forbidden" });
  });

  it("shows no tables while the first parse is still building them", async () => {
    const target = await createParseTarget({ filename: "rows.csv", contentType: "text/csv", bytes: csv(20) });
    const { queue } = recordingQueue();
    await runParseMessage({ kind: "parse", version_id: target.version_id }, parseDependencies(queue), { chunkRows: 5, chunkPayloadBytes: 1_000_000 });
    const ctx = await contextFor(target.org_id, ["file:read"]);
    expect(await listTables(ctx, target.version_id)).toEqual({ data: [] });
    const building = await testDb().execute(sql`select table_id from file_table where version_id = ${target.version_id}`);
    await expect(listRows(ctx, (building.rows[0] as { table_id: number }).table_id, { limit: 10 })).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("requestReparse", () => {
  it("queues a new generation and swaps its tables in when it succeeds", async () => {
    const target = await parsed(csv(12));
    const ctx = await contextFor(target.org_id, ["file:read", "file:update"]);
    const before = await listTables(ctx, target.version_id);
    const { queue, sent } = recordingQueue();

    const version = await requestReparse(ctx, target.version_id, queue);
    expect(version).toMatchObject({ version_id: target.version_id, parse_status: "queued", parse_error: null, parse_progress: { done: 0, total: null } });
    expect(sent).toEqual([{ kind: "parse", version_id: target.version_id, generation: 1 }]);
    // Until the new parse swaps, readers keep the previous tables.
    expect(await listTables(ctx, target.version_id)).toEqual(before);
    // Messages of the superseded generation (the upload's own carries none: generation 0) do nothing.
    expect(await runParseMessage({ kind: "parse", version_id: target.version_id, generation: 0 }, parseDependencies(queue))).toBe("superseded");
    expect(await runParseMessage({ kind: "parse", version_id: target.version_id }, parseDependencies(queue))).toBe("superseded");

    expect(await deliverAll(sent.shift()!, sent)).toEqual(["succeeded"]);
    const after = await listTables(ctx, target.version_id);
    expect(after.data[0]!.table_id).not.toBe(before.data[0]!.table_id);
    expect({ ...after.data[0], table_id: 0 }).toEqual({ ...before.data[0], table_id: 0 });
    const left = await testDb().execute(sql`select count(*)::int as n from file_table where version_id = ${target.version_id}`);
    expect(left.rows[0]).toEqual({ n: 1 });

    const events = await testDb().execute(sql`
      select action, actor_kind, after->>'parse_generation' as generation from event_log
      where entity_type = 'file_version' and entity_id = ${target.version_id} order by event_id`);
    expect(events.rows).toEqual([
      { action: "file_version.parse", actor_kind: "system", generation: "0" },
      { action: "file_version.reparse", actor_kind: "user", generation: "1" },
      { action: "file_version.parse", actor_kind: "system", generation: "1" },
    ]);
  });

  it("keeps a replaced table that annotation jobs point at, as superseded", async () => {
    const target = await parsed(csv(5));
    const ctx = await contextFor(target.org_id, ["file:read", "file:update"]);
    const old = (await listTables(ctx, target.version_id)).data[0]!;
    await testDb().execute(sql`
      insert into annotation_job (project_id, table_id, name, row_start, row_end)
      values (${target.project_id}, ${old.table_id}, ${unique("Job")}, 0, 4)`);
    const { queue, sent } = recordingQueue();
    await requestReparse(ctx, target.version_id, queue);
    await deliverAll(sent.shift()!, sent);

    const tables = await testDb().execute(sql`select table_id, state from file_table where version_id = ${target.version_id} order by table_id`);
    expect(tables.rows).toEqual([
      { table_id: old.table_id, state: "superseded" },
      { table_id: expect.any(Number), state: "active" },
    ]);
    expect((await listTables(ctx, target.version_id)).data.map((table) => table.table_id)).not.toContain(old.table_id);
    expect((await listRows(ctx, old.table_id, { limit: 10 })).data).toHaveLength(5);
  });

  it("leaves the previous tables in place when the new parse fails", async () => {
    const target = await parsed(csv(5));
    const ctx = await contextFor(target.org_id, ["file:read", "file:update"]);
    const before = await listTables(ctx, target.version_id);
    await env.FILES.put(target.r2_key, encoder.encode("n,label\n1,2,3\n"));
    const { queue, sent } = recordingQueue();
    await requestReparse(ctx, target.version_id, queue);
    expect(await deliverAll(sent.shift()!, sent)).toEqual(["failed"]);
    expect(await parseSnapshot(target.version_id)).toMatchObject({
      parse_status: "failed",
      parse_error: "line 2 (row_index 0): 3 fields, but the header has 2 columns.",
    });
    expect(await listTables(ctx, target.version_id)).toEqual(before);
  });

  it("answers 403 without file:update, 404 to another organization, 409 before the upload completes", async () => {
    const target = await parsed(csv(2));
    const { queue, sent } = recordingQueue();
    await expect(requestReparse(await contextFor(target.org_id, ["file:read"]), target.version_id, queue)).rejects.toMatchObject({ code: "forbidden" });
    const other = await createParseTarget({ filename: "x.csv", contentType: "text/csv", bytes: csv(1) });
    await expect(requestReparse(await contextFor(other.org_id, ["file:read", "file:update"]), target.version_id, queue)).rejects.toMatchObject({ code: "not_found" });

    await testDb().execute(sql`
      update file_version set status = 'pending', parse_status = null, version_number = null, completed_at = null
      where version_id = ${other.version_id}`);
    await expect(requestReparse(await contextFor(other.org_id, ["file:read", "file:update"]), other.version_id, queue)).rejects.toMatchObject({ code: "conflict" });
    expect(sent).toEqual([]);
  });
});
