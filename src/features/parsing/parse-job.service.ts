/**
 * The parse consumer's database work. Every write is conditional on the version still
 * being at the generation the work belongs to, so work for a superseded parse (a
 * reparse was requested meanwhile) changes nothing, and every row write is idempotent
 * (keyed by table_id and row_index), so doing a piece of work twice changes nothing
 * either. Each function is one statement or one batch: one round trip.
 */
import { sql, type SQL } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import type { FileTableColumn } from "../../db/schema/files.ts";
import { auditInsert } from "../../lib/audit.ts";
import { postgresErrorOf, UNIQUE_VIOLATION } from "../../lib/postgres-errors.ts";
import type { TableProfile } from "../dataset-profile/profile-builder.ts";
import { storedProfile } from "../dataset-profile/profile-sql.ts";
import type { ServiceContext } from "../../lib/service-context.ts";
import type { ParseCursor } from "./cursor.ts";
import { rowSearchVector, searchConfigOf, tableSearchConfig } from "../search/text-search.ts";

export type ParseJob = {
  version_id: number;
  file_id: number;
  project_id: number;
  org_id: number;
  file_type: string;
  filename: string;
  content_type: string;
  r2_key: string;
  size_bytes: number;
  status: string;
  parse_status: string | null;
  parse_generation: number;
  cursor: ParseCursor | null;
  /** The tables of the current generation, by position. */
  tables: TableRef[];
};

export type TableRef = { table_id: number; position: number };

/** Who the consumer's audit rows name: the platform itself, with the message as request id. */
export type SystemActor = Pick<ServiceContext, "principal" | "requestId">;

export function systemActor(messageId: string): SystemActor {
  return { principal: null, requestId: `queue:${messageId}` };
}

const TABLES_OF_GENERATION = sql`coalesce((
    select jsonb_agg(jsonb_build_object('table_id', t.table_id, 'position', t.position) order by t.position)
    from file_table t where t.version_id = v.version_id and t.generation = v.parse_generation
  ), '[]'::jsonb)`;

export async function loadParseJob(db: Database, versionId: number): Promise<ParseJob | null> {
  const result = await db.execute(sql`
    select v.version_id, v.file_id, f.project_id, f.org_id, f.file_type, v.filename, v.content_type, v.r2_key,
      v.size_bytes, v.status, v.parse_status, v.parse_generation, v.parse_cursor as cursor, ${TABLES_OF_GENERATION} as tables
    from file_version v join file f on f.file_id = v.file_id
    where v.version_id = ${versionId}`);
  const row = result.rows[0] as (Omit<ParseJob, "size_bytes"> & { size_bytes: string | number }) | undefined;
  // bigint arrives as text from the HTTP driver.
  return row ? { ...row, size_bytes: Number(row.size_bytes) } : null;
}

const json = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;

/**
 * Marks the parse running and creates its tables in the "building" state, invisible to
 * readers until the swap. Only the first of several concurrent starts wins; the others
 * learn they lost and leave the work to it.
 */
export async function beginParse(
  db: Database,
  job: ParseJob,
  generation: number,
  cursor: ParseCursor,
  tables: { position: number; name: string }[],
): Promise<{ begun: boolean; tables: TableRef[] }> {
  const [begin, created] = await db.batch([
    db.execute(sql`
      with started as (
        update file_version set parse_status = 'running', parse_error = null, parse_cursor = ${json(cursor)},
          parse_progress_done = ${cursor.offset}, parse_progress_total = ${cursor.total}, updated_at = now()
        where version_id = ${job.version_id} and parse_generation = ${generation} and status = 'ready'
          and (parse_status is null or parse_status in ('queued', 'running')) and parse_cursor is null
        returning version_id
      ), created as (
        insert into file_table (version_id, generation, position, name, state, search_config)
        select started.version_id, ${generation}, t.position, t.name, 'building', ${searchConfigOf(sql`f.language`)}
        from started join file f on f.file_id = ${job.file_id}, jsonb_to_recordset(${json(tables)}) as t(position int, name text)
        on conflict (version_id, generation, position) do nothing
        returning table_id
      )
      select (select count(*)::int from started) as started, (select count(*)::int from created) as created`),
    db.execute(sql`
      select table_id, position from file_table
      where version_id = ${job.version_id} and generation = ${generation} order by position`),
  ]);
  return { begun: (begin.rows[0] as { started: number }).started === 1, tables: created.rows as TableRef[] };
}

/** A chunk's rows as `[{row_index, data}, …]` JSON text, built by the caller while it measures them. */
export type RowsPayload = string;

/**
 * The rows and their search vectors, in the table's configuration, in one INSERT: the
 * vector costs no round trip, and a row is never visible without it.
 */
function insertRows(tableId: number, rows: RowsPayload, guard: SQL): SQL {
  return sql`insert into file_table_row (table_id, row_index, data, search)
    select ${tableId}, r.row_index, r.data, ${rowSearchVector(tableSearchConfig(sql`${tableId}::integer`), sql`r.data`)}
    from ${guard}, jsonb_to_recordset(${rows}::jsonb) as r(row_index int, data jsonb)
    on conflict (table_id, row_index) do nothing`;
}

/**
 * One chunk: its rows and the advanced cursor, in one statement that only takes effect
 * if the saved cursor is still at `fromOffset` (the later of two concurrent duplicates
 * finds the cursor moved and writes nothing). The last chunk carries the swap in the same
 * batch. `also`: more CTEs of the same statement (an llm_output import's,
 * features/suggestions/llm-output-import.ts), guarded by `claimed`; `ifConflict`: their
 * second form, for when the first meets a unique violation.
 *
 * `follows`: for all but a delivery's first commit, the delivery (the cursor must still
 * be its own, ParseCursor.claimed_by) and where its previous chunk starts. That chunk's
 * commit may still be in flight, and a statement sees the cursor as it was when it
 * began: if it asked only for the cursor at `fromOffset`, it would skip the row rather
 * than wait for the commit holding it. So it also matches the cursor at the predecessor's
 * start, which makes it wait for that row's lock and then look again at the row as
 * committed, and advances the cursor only if it is then at `fromOffset` (a row matched
 * while the predecessor has not yet reached it is left as it was: this commit claims
 * nothing and is sent again, chunked-parse.ts).
 *
 * The statement is built here, at once (for a chunk of suggestions, most of the work of
 * the commit on this side); `send` runs it, and answers whether this call did the work.
 * Building while earlier commits are still in flight is what lets the consumer's work
 * overlap the database's (features/parsing/chunked-parse.ts).
 */
export function chunkCommit(
  db: Database,
  job: ParseJob,
  generation: number,
  chunk: {
    fromOffset: number;
    follows: { delivery: string; predecessorOffset: number } | null;
    next: ParseCursor;
    tableId: number;
    rows: RowsPayload;
    finish: SQL | null;
    also?: SQL | null;
    ifConflict?: IfConflict | null;
  },
): { send(): Promise<boolean> } {
  const { follows } = chunk;
  const atStart = sql`(parse_cursor->>'offset')::bigint = ${chunk.fromOffset}${follows ? sql` and parse_cursor->>'claimed_by' = ${follows.delivery}` : sql``}`;
  const statement = (also: SQL | null | undefined) => db.execute(sql`
    with claim_attempt as (
      update file_version set
        parse_cursor = case when ${atStart} then ${json(chunk.next)} else parse_cursor end,
        parse_progress_done = case when ${atStart} then ${chunk.next.offset} else parse_progress_done end,
        updated_at = now()
      where version_id = ${job.version_id} and parse_generation = ${generation} and parse_status = 'running'
        and (${atStart}${follows ? sql` or (parse_cursor->>'offset')::bigint = ${follows.predecessorOffset}` : sql``})
      returning version_id, (parse_cursor->>'offset')::bigint = ${chunk.next.offset} as advanced
    ), claimed as (
      select version_id from claim_attempt where advanced
    ), inserted as (
      ${insertRows(chunk.tableId, chunk.rows, sql`claimed`)}
      returning 1
    )${also ? sql`, ${also}` : sql``}
    select (select count(*)::int from claimed) as claimed`);
  const run = async (claim: ReturnType<typeof statement>) => {
    const [claimed] = chunk.finish ? await db.batch([claim, db.execute(chunk.finish)]) : [await claim];
    return (claimed.rows[0] as { claimed: number }).claimed === 1;
  };
  let current = statement(chunk.also);
  return {
    // Awaiting a built statement again runs it again: a commit that lost its claim is
    // sent again as it is, or in its conflict form once the first form met a stored row.
    async send() {
      try {
        return await run(current);
      } catch (error) {
        const { ifConflict } = chunk;
        const violated = postgresErrorOf(error);
        if (!ifConflict || violated?.code !== UNIQUE_VIOLATION || violated.constraint !== ifConflict.constraint) throw error;
        ifConflict.noted();
        current = statement(ifConflict.also);
        return run(current);
      }
    },
  };
}

/** `also` to send instead when the first form fails on a violation of `constraint` (it wrote nothing), and whom to tell. */
export type IfConflict = { also: SQL; constraint: string; noted(): void };

/** Records that the message for the chunk at `offset` is on the queue. */
export async function markHandedOff(db: Database, job: ParseJob, generation: number, offset: number): Promise<void> {
  await db.execute(sql`
    update file_version set parse_cursor = jsonb_set(parse_cursor, '{handed_off}', 'true'::jsonb)
    where version_id = ${job.version_id} and parse_generation = ${generation} and parse_status = 'running'
      and (parse_cursor->>'offset')::bigint = ${offset}`);
}

/** Whole-file formats: a batch of rows and the progress so far. False once the parse is no longer this one's. */
export async function writeRows(
  db: Database,
  job: ParseJob,
  generation: number,
  batch: { tableId: number; rows: RowsPayload; progress: number },
): Promise<boolean> {
  const result = await db.execute(sql`
    with live as (
      update file_version set parse_progress_done = greatest(parse_progress_done, ${batch.progress}), updated_at = now()
      where version_id = ${job.version_id} and parse_generation = ${generation} and parse_status = 'running'
      returning version_id
    ), inserted as (
      ${insertRows(batch.tableId, batch.rows, sql`live`)}
      returning 1
    )
    select (select count(*)::int from live) as live`);
  return (result.rows[0] as { live: number }).live === 1;
}

/** `profile`: null when the parse could not keep one (it resumed from a cursor older than profiles). */
export type FinishedTable = { table_id: number; columns: FileTableColumn[]; row_count: number; profile: TableProfile | null };

/**
 * The swap, as one statement: the version succeeds; its new tables get their columns and
 * row counts and become active; the previous generation's tables are deleted, or kept as
 * "superseded" where annotation jobs still point at them; a requirement document's text
 * becomes its project's requirements_text (when this is the file's current version).
 * `claimOffset`: for chunked formats, only if the final chunk's claim just won.
 */
export function finishStatement(
  job: ParseJob,
  generation: number,
  actor: SystemActor,
  finish: { tables: FinishedTable[]; claimOffset: number | null; requirementsTableId: number | null },
): SQL {
  const claimed = finish.claimOffset === null ? sql`` : sql`and (parse_cursor->>'offset')::bigint = ${finish.claimOffset}`;
  return sql`
    with finished as (
      update file_version set parse_status = 'succeeded', parse_error = null, parse_cursor = null,
        parse_progress_done = coalesce(parse_progress_total, parse_progress_done), updated_at = now()
      where version_id = ${job.version_id} and parse_generation = ${generation} and parse_status = 'running' ${claimed}
      returning version_id, file_id
    ), described as (
      update file_table t set columns = s.columns, row_count = s.row_count, profile = ${storedProfile(sql`s.profile`, "t")},
        state = 'active', updated_at = now()
      from finished, jsonb_to_recordset(${json(finish.tables)}) as s(table_id int, columns jsonb, row_count int, profile jsonb)
      where t.table_id = s.table_id and t.version_id = finished.version_id and t.generation = ${generation}
    ), dropped as (
      delete from file_table t using finished
      where t.version_id = finished.version_id and t.generation <> ${generation}
        and not exists (select 1 from annotation_job j where j.table_id = t.table_id)
    ), retired as (
      update file_table t set state = 'superseded', updated_at = now() from finished
      where t.version_id = finished.version_id and t.generation <> ${generation} and t.state <> 'superseded'
        and exists (select 1 from annotation_job j where j.table_id = t.table_id)
    ), requirements as (
      update project p set updated_at = now(), requirements_text = coalesce((
          select string_agg(r.data->>'text', E'\n\n' order by r.row_index)
          from file_table_row r where r.table_id = ${finish.requirementsTableId}), '')
      from finished join file f on f.file_id = finished.file_id
      where ${finish.requirementsTableId !== null} and p.project_id = f.project_id
        and (f.current_version_id is null or f.current_version_id = finished.version_id)
      returning p.project_id, p.requirements_text
    ), audited as (
      ${auditInsert(actor, {
        action: "file_version.parse",
        entity_type: "file_version",
        entity_id: sql`finished.version_id`,
        org_id: job.org_id,
        project_id: job.project_id,
        after: { parse_status: "succeeded", parse_generation: generation, tables: finish.tables.length },
      }, sql`finished`)}
    ), requirements_audited as (
      ${auditInsert(actor, {
        action: "project.update",
        entity_type: "project",
        entity_id: sql`requirements.project_id`,
        org_id: job.org_id,
        project_id: sql`requirements.project_id`,
        after: sql`jsonb_build_object('requirements_text', requirements.requirements_text, 'source_version_id', ${job.version_id}::int)`,
      }, sql`requirements`)}
    )
    select count(*)::int as finished from finished`;
}

export async function finishParse(db: Database, statement: SQL): Promise<boolean> {
  const result = await db.execute(statement);
  return (result.rows[0] as { finished: number }).finished === 1;
}

/**
 * Fails the parse of `generation` with a message for users (unless the version has moved
 * on to another generation, or the parse already ended), and drops the tables it was
 * building; a previous generation's tables stay as they were.
 */
export async function failParse(db: Database, versionId: number, generation: number, message: string, actor: SystemActor): Promise<boolean> {
  const result = await db.execute(sql`
    with failed as (
      update file_version v set parse_status = 'failed', parse_error = ${message}, parse_cursor = null, updated_at = now()
      from file f
      where f.file_id = v.file_id and v.version_id = ${versionId} and v.status = 'ready'
        and v.parse_generation = ${generation}
        and (v.parse_status is null or v.parse_status in ('queued', 'running'))
      returning v.version_id, v.parse_generation, f.org_id, f.project_id
    ), dropped as (
      delete from file_table t using failed
      where t.version_id = failed.version_id and t.generation = failed.parse_generation and t.state = 'building'
    ), audited as (
      ${auditInsert(actor, {
        action: "file_version.parse",
        entity_type: "file_version",
        entity_id: sql`failed.version_id`,
        org_id: sql`failed.org_id`,
        project_id: sql`failed.project_id`,
        after: sql`jsonb_build_object('parse_status', 'failed', 'parse_generation', failed.parse_generation, 'parse_error', ${message}::text)`,
      }, sql`failed`)}
    )
    select count(*)::int as failed from failed`);
  return (result.rows[0] as { failed: number }).failed === 1;
}
