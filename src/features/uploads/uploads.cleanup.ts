/**
 * The scheduled sweep of uploads (cron trigger in wrangler.toml):
 * - Pending uploads more than an hour past their expiry are abandoned: their multipart
 *   uploads are aborted in R2, any bytes a client PUT without completing are deleted,
 *   and their pending versions (and files that never got a version) are deleted with an
 *   audit row each. The hour of grace keeps the sweep clear of a `complete` that started
 *   just before the expiry and is still verifying.
 * - Parses that stopped get their parse message again, for their current generation
 *   (the consumer is idempotent, so a duplicate is harmless): versions left `queued` for
 *   15 minutes without the parser starting (the send after `complete` or a reparse can
 *   fail after the commit), and parses `running` that committed nothing for 30 minutes,
 *   with the saved cursor's offset, so the consumer carries on from there even when the
 *   cursor says the message for it was already sent. Every chunk a parse commits
 *   touches `updated_at`, and a running parse commits at least once per queue message
 *   (a time slice is 60 s) and waits at most 900 s for a retry (queues/consume.ts), so a
 *   parse that sits that long has, as a rule, lost its message: a killed delivery's last
 *   commit landed after its redelivery read the cursor (the redelivery's first commit
 *   then claims nothing and it stops, parsing/chunked-parse.ts), or a hand-off message
 *   used up its retries and its dead letter could not fail the version. A message only
 *   waiting in a long queue backlog gets a duplicate: of a chunked parse, whichever
 *   delivery loses the cursor stops; a workbook or PDF is parsed again, idempotently.
 * R2 is cleaned before the rows go, so a failure leaves rows that the next run retries,
 * never storage that no row points at.
 */
import { sql, type SQL } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import type { SharedConfig } from "../../env.ts";
import { auditInsert } from "../../lib/audit.ts";
import type { Logger } from "../../lib/logger.ts";
import { sendParseMessages } from "../../queues/producers.ts";

export type SweepContext = {
  db: Database;
  config: SharedConfig;
  logger: Logger;
  requestId: string;
  /**
   * Sweep one organization's rows only. The cron sweeps everything; tests sweep their own
   * organization, so a sweep never reaches rows other test files are working with.
   */
  orgId?: number;
};
export type SweepResult = { expired_uploads: number; deleted_files: number; requeued_versions: number };

const EXPIRY_GRACE = sql`interval '1 hour'`;
const QUEUED_TOO_LONG = sql`interval '15 minutes'`;
const RUNNING_STILL_TOO_LONG = sql`interval '30 minutes'`;
const BATCH = 200;
// Queues take at most 100 messages per sendBatch.
const REQUEUE_BATCH = 100;
// R2's delete() takes at most 1000 keys at a time.
const DELETE_BATCH = 1000;

type ExpiredUpload = { upload_id: number; r2_key: string; multipart_upload_id: string | null };

function isNoSuchUpload(error: unknown): boolean {
  return /NoSuchUpload|\(10024\)|does not exist/i.test(error instanceof Error ? error.message : String(error));
}

/** Aborts and deletes in R2; answers the uploads whose storage is now clean. */
async function releaseStorage(ctx: SweepContext, uploads: ExpiredUpload[]): Promise<number[]> {
  const bucket = ctx.config.FILES;
  const released: ExpiredUpload[] = [];
  for (const upload of uploads) {
    if (upload.multipart_upload_id === null) {
      released.push(upload);
      continue;
    }
    try {
      await bucket.resumeMultipartUpload(upload.r2_key, upload.multipart_upload_id).abort();
      released.push(upload);
    } catch (error) {
      if (isNoSuchUpload(error)) released.push(upload);
      else ctx.logger.warn("could not abort an expired multipart upload; next run retries", { upload_id: upload.upload_id, error: String(error) });
    }
  }
  const keys = released.map((upload) => upload.r2_key);
  for (let start = 0; start < keys.length; start += DELETE_BATCH) await bucket.delete(keys.slice(start, start + DELETE_BATCH));
  return released.map((upload) => upload.upload_id);
}

/** One statement: the versions (their upload rows cascade), files left without any version, and an audit row for each. */
async function deleteExpiredRows(ctx: SweepContext, uploadIds: number[]): Promise<{ versions: number; files: number }> {
  const actor = { principal: null, requestId: ctx.requestId };
  const result = await ctx.db.execute(sql`
    with expired as (
      select u.upload_id, u.version_id, u.project_id, u.org_id from upload u
      where u.upload_id in (${sql.join(uploadIds.map((id) => sql`${id}`), sql`, `)})
        and u.status = 'pending' and u.expires_at < now() - ${EXPIRY_GRACE}
    ), dropped_versions as (
      delete from file_version fv using expired e
      where fv.version_id = e.version_id and fv.status = 'pending'
      returning fv.version_id, fv.file_id, fv.filename, fv.size_bytes, e.upload_id, e.project_id, e.org_id
    ), dropped_files as (
      delete from file f
      where f.file_id in (select file_id from dropped_versions) and f.status = 'pending' and f.current_version_id is null
        and not exists (select 1 from file_version other where other.file_id = f.file_id
          and other.version_id not in (select version_id from dropped_versions))
      returning f.file_id, f.project_id, f.org_id, f.filename
    ), audited_versions as (
      ${auditInsert(actor, {
        action: "file_version.expire",
        entity_type: "file_version",
        entity_id: sql`dropped_versions.version_id`,
        org_id: sql`dropped_versions.org_id`,
        project_id: sql`dropped_versions.project_id`,
        before: sql`jsonb_build_object('status', 'pending', 'upload_id', dropped_versions.upload_id, 'file_id', dropped_versions.file_id,
          'filename', dropped_versions.filename, 'size_bytes', dropped_versions.size_bytes)`,
      }, sql`dropped_versions`)}
    ), audited_files as (
      ${auditInsert(actor, {
        action: "file.expire",
        entity_type: "file",
        entity_id: sql`dropped_files.file_id`,
        org_id: sql`dropped_files.org_id`,
        project_id: sql`dropped_files.project_id`,
        before: sql`jsonb_build_object('status', 'pending', 'filename', dropped_files.filename)`,
      }, sql`dropped_files`)}
    )
    select (select count(*) from dropped_versions)::integer as versions, (select count(*) from dropped_files)::integer as files`);
  return result.rows[0] as { versions: number; files: number };
}

function inOrganization(ctx: SweepContext, column: SQL): SQL {
  return ctx.orgId === undefined ? sql`` : sql`and ${column} = ${ctx.orgId}`;
}

async function sweepExpiredUploads(ctx: SweepContext): Promise<{ versions: number; files: number }> {
  const result = await ctx.db.execute(sql`
    select upload_id, r2_key, multipart_upload_id from upload
    where status = 'pending' and expires_at < now() - ${EXPIRY_GRACE} ${inOrganization(ctx, sql`org_id`)}
    order by expires_at limit ${BATCH}`);
  const expired = result.rows as ExpiredUpload[];
  if (expired.length === 0) return { versions: 0, files: 0 };
  const released = await releaseStorage(ctx, expired);
  if (released.length === 0) return { versions: 0, files: 0 };
  return deleteExpiredRows(ctx, released);
}

/** Re-sends the parse message of stalled parses (above); touching updated_at spaces the re-sends out. */
async function requeueStalledParses(ctx: SweepContext): Promise<number> {
  const result = await ctx.db.execute(sql`
    with stalled as (
      select version_id from file_version
      where status = 'ready'
        and ((parse_status = 'queued' and parse_cursor is null and updated_at < now() - ${QUEUED_TOO_LONG})
          or (parse_status = 'running' and updated_at < now() - ${RUNNING_STILL_TOO_LONG}))
        ${inOrganization(ctx, sql`(select f.org_id from file f where f.file_id = file_version.file_id)`)}
      order by updated_at limit ${REQUEUE_BATCH}
      for update skip locked
    )
    update file_version fv set updated_at = now() from stalled where fv.version_id = stalled.version_id
    returning fv.version_id, fv.parse_generation as generation,
      case when fv.parse_status = 'running' then (fv.parse_cursor ->> 'offset')::bigint end as offset`);
  const versions = (result.rows as { version_id: number; generation: number; offset: number | string | null }[])
    .map((row) => ({ ...row, offset: row.offset === null ? null : Number(row.offset) }));
  await sendParseMessages(ctx.config.PARSE_QUEUE, versions);
  return versions.length;
}

export async function sweepUploads(ctx: SweepContext): Promise<SweepResult> {
  const expired = await sweepExpiredUploads(ctx);
  const requeued = await requeueStalledParses(ctx);
  const outcome = { expired_uploads: expired.versions, deleted_files: expired.files, requeued_versions: requeued };
  ctx.logger.info("upload sweep done", outcome);
  return outcome;
}
