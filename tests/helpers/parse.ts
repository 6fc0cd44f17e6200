/**
 * Parse tests' helpers: a file version created straight in the database (its own
 * organization, project and file, uniquely named) with its bytes put into R2, a queue
 * producer that records what is sent instead of delivering it, and a reader of what a
 * parse produced.
 */
import { createExecutionContext, env, getQueueResult } from "cloudflare:test";
import { sql } from "drizzle-orm";
import type { Bindings } from "../../src/env.ts";
import type { ParseDependencies } from "../../src/features/parsing/parse-run.ts";
import worker from "../../src/background.ts";
import { createLogger } from "../../src/lib/logger.ts";
import type { ParseMessage } from "../../src/queues/messages.ts";
import { testDb } from "./db.ts";
import { unique } from "./factories.ts";

export type ParseTarget = { org_id: number; project_id: number; file_id: number; version_id: number; r2_key: string };

export async function createParseTarget(input: {
  filename: string;
  contentType: string;
  bytes: Uint8Array;
  fileType?: "dataset" | "requirement";
}): Promise<ParseTarget> {
  const r2Key = `tests/parse/${crypto.randomUUID()}/${input.filename}`;
  await env.FILES.put(r2Key, input.bytes);
  const result = await testDb().execute(sql`
    with org as (
      insert into organization (name) values (${unique("Parse Org")}) returning org_id
    ), proj as (
      insert into project (org_id, name) select org_id, ${unique("Parse Project")} from org returning project_id, org_id
    ), created_file as (
      insert into file (project_id, org_id, filename, content_type, file_type)
      select project_id, org_id, ${input.filename}, ${input.contentType}, ${input.fileType ?? "dataset"} from proj
      returning file_id, project_id, org_id
    ), version as (
      insert into file_version (file_id, version_number, filename, r2_key, size_bytes, content_type, status, parse_status, completed_at)
      select file_id, 1, ${input.filename}, ${r2Key}, ${input.bytes.length}, ${input.contentType}, 'ready', 'queued', now() from created_file
      returning version_id, file_id
    ), current as (
      update file set current_version_id = version.version_id from version where file.file_id = version.file_id
    )
    select created_file.org_id, created_file.project_id, created_file.file_id, version.version_id
    from created_file, version`);
  return { ...(result.rows[0] as Omit<ParseTarget, "r2_key">), r2_key: r2Key };
}

/** Runs a batch through the Worker's real `queue` entry point and returns what it acked and retried. */
export async function deliverBatch(batch: MessageBatch<unknown>) {
  const ctx = createExecutionContext();
  const queue: ExportedHandlerQueueHandler<Bindings> = worker.queue;
  await queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

/** A PARSE_QUEUE stand-in that keeps what is sent, so a test decides when (and whether) it is delivered. */
export function recordingQueue() {
  const sent: ParseMessage[] = [];
  const queue = {
    async send(body: ParseMessage) {
      sent.push(structuredClone(body));
    },
    async sendBatch(messages: Iterable<MessageSendRequest<ParseMessage>>) {
      for (const message of messages) sent.push(structuredClone(message.body));
    },
  } as unknown as Queue<ParseMessage>;
  return { queue, sent };
}

export function parseDependencies(queue: Queue<ParseMessage>): ParseDependencies {
  return { db: testDb(), bucket: env.FILES, queue, logger: createLogger({ test: "parse" }, "error") };
}

export type TableSnapshot = {
  name: string;
  columns: { name: string; type: string; nullable: boolean }[];
  row_count: number;
  rows: { row_index: number; data: Record<string, unknown> }[];
};

export type ParseSnapshot = {
  parse_status: string | null;
  parse_error: string | null;
  tables: TableSnapshot[];
};

/** The version's outcome and its active tables with every row, in order. */
export async function parseSnapshot(versionId: number): Promise<ParseSnapshot> {
  const db = testDb();
  const [version, tables] = await db.batch([
    db.execute(sql`select parse_status, parse_error from file_version where version_id = ${versionId}`),
    db.execute(sql`
      select t.name, t.columns, t.row_count,
        coalesce((select jsonb_agg(jsonb_build_object('row_index', r.row_index, 'data', r.data) order by r.row_index)
                  from file_table_row r where r.table_id = t.table_id), '[]'::jsonb) as rows
      from file_table t where t.version_id = ${versionId} and t.state = 'active' order by t.position`),
  ]);
  return { ...(version.rows[0] as Omit<ParseSnapshot, "tables">), tables: tables.rows as TableSnapshot[] };
}

/** Every row of every table the version has, whatever their state: to prove nothing is duplicated or left over. */
export async function allRowsOf(versionId: number) {
  const result = await testDb().execute(sql`
    select t.generation, t.position, t.state, r.row_index, r.data
    from file_table t join file_table_row r on r.table_id = t.table_id
    where t.version_id = ${versionId} order by t.generation, t.position, r.row_index`);
  return result.rows as { generation: number; position: number; state: string; row_index: number; data: Record<string, unknown> }[];
}
