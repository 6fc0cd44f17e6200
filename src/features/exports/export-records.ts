/**
 * The export_log statements of the export consumer. Each is one round trip, and every
 * change after the claim is conditional on still holding the claim (`lease_owner`), so
 * a delivery that lost it (its lease expired and another delivery took over) can no
 * longer write anything: its next save finds no row and it stops.
 */
import { sql } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import type { UploadedPart } from "../../db/schema/exports.ts";
import { auditInsert } from "../../lib/audit.ts";
import type { ExportFilters, ExportFormat, ExportScope, ExportStatus, ResumeState } from "./export-state.ts";

export type ExportRecord = {
  export_id: number;
  project_id: number;
  org_id: number;
  format: ExportFormat;
  scope: ExportScope;
  filters: ExportFilters;
  status: ExportStatus;
  r2_key: string | null;
  multipart_upload_id: string | null;
  uploaded_parts: UploadedPart[];
  resume_state: unknown;
  claimed: boolean;
};

/** Raised when a save finds the claim gone: another delivery owns the export now. */
export class LeaseLost extends Error {
  override name = "LeaseLost";
}

const RECORD_COLUMNS = sql`export_id, project_id, org_id, format, scope, filters, status, r2_key, multipart_upload_id, uploaded_parts, resume_state`;

/**
 * Takes the export for `owner` when nobody holds it, when the claim ran out, or when an
 * earlier attempt of the same message holds it (the runtime redelivers a message only
 * once its previous attempt is over, killed ones included). A claim is
 * `<message id> <attempt> <nonce>`. Answers the row either way, with `claimed` saying
 * whether the claim was taken; a finished or failed export is never claimed.
 */
export async function claimExport(
  db: Database,
  exportId: number,
  claimant: { owner: string; delivery: { id: string; attempt: number } },
  leaseSeconds: number,
): Promise<ExportRecord | null> {
  const result = await db.execute(sql`
    with claimed as (
      update export_log set status = 'running', lease_owner = ${claimant.owner},
        lease_expires_at = now() + make_interval(secs => ${leaseSeconds}), updated_at = now()
      where export_id = ${exportId} and status in ('queued', 'running')
        and (lease_owner is null or lease_expires_at < now()
          or (split_part(lease_owner, ' ', 1) = ${claimant.delivery.id}
            and case when split_part(lease_owner, ' ', 2) ~ '^[0-9]{1,9}$' then split_part(lease_owner, ' ', 2)::integer end
              < ${claimant.delivery.attempt}))
      returning ${RECORD_COLUMNS}
    )
    select ${RECORD_COLUMNS}, true as claimed from claimed
    union all
    select ${RECORD_COLUMNS}, false as claimed from export_log
    where export_id = ${exportId} and not exists (select 1 from claimed)`);
  return (result.rows[0] as ExportRecord | undefined) ?? null;
}

/** Saves the plan and the new multipart upload, once per export (the first claim that gets here). */
export async function saveStart(
  db: Database,
  exportId: number,
  owner: string,
  start: { uploadId: string; total: number; state: ResumeState; leaseSeconds: number },
): Promise<void> {
  const result = await db.execute(sql`
    update export_log set multipart_upload_id = ${start.uploadId}, uploaded_parts = '[]'::jsonb,
      resume_state = ${JSON.stringify(start.state)}::jsonb, progress_total = ${start.total}, progress_done = 0,
      row_count = 0, size_bytes = 0, lease_expires_at = now() + make_interval(secs => ${start.leaseSeconds}), updated_at = now()
    where export_id = ${exportId} and lease_owner = ${owner} and status = 'running' and resume_state is null
    returning export_id`);
  if (result.rows.length === 0) throw new LeaseLost(`export ${exportId}: claim lost before its start was saved`);
}

/**
 * Records one more uploaded part (or, with `part` null, the end of the stream) with the
 * state as of that part, and renews the claim. Guarded by the part count too, so parts are
 * appended strictly in order.
 */
export async function savePart(
  db: Database,
  exportId: number,
  owner: string,
  save: { part: UploadedPart | null; partsBefore: number; state: ResumeState; uploadedBytes: number; leaseSeconds: number },
): Promise<void> {
  const appended = save.part ? sql`uploaded_parts || ${JSON.stringify([save.part])}::jsonb` : sql`uploaded_parts`;
  const result = await db.execute(sql`
    update export_log set uploaded_parts = ${appended}, resume_state = ${JSON.stringify(save.state)}::jsonb,
      progress_done = ${save.state.rows}, progress_total = greatest(progress_total, ${save.state.rows}),
      row_count = ${save.state.rows}, size_bytes = ${save.uploadedBytes},
      lease_expires_at = now() + make_interval(secs => ${save.leaseSeconds}), updated_at = now()
    where export_id = ${exportId} and lease_owner = ${owner} and status = 'running'
      and jsonb_array_length(uploaded_parts) = ${save.partsBefore}
    returning export_id`);
  if (result.rows.length === 0) throw new LeaseLost(`export ${exportId}: claim lost before part ${save.partsBefore + 1} was saved`);
}

/** The queue consumers act as the platform itself in the audit log. */
const systemActor = (owner: string) => ({ principal: null, requestId: `queue:${owner}` });

/**
 * Marks the export succeeded with its final figures, links it to the file versions it
 * drew from, and audits it: one statement. A no-op (and LeaseLost) if the claim is gone.
 */
export async function saveSuccess(
  db: Database,
  exportId: number,
  owner: string,
  done: { sha256: string; size: number; state: ResumeState },
): Promise<void> {
  const result = await db.execute(sql`
    with done as (
      update export_log set status = 'succeeded', sha256 = ${done.sha256}, size_bytes = ${done.size},
        row_count = ${done.state.rows}, progress_done = ${done.state.rows}, progress_total = ${done.state.rows},
        resume_state = ${JSON.stringify(done.state)}::jsonb, error = null, lease_owner = null, lease_expires_at = null,
        completed_at = now(), updated_at = now()
      where export_id = ${exportId} and lease_owner = ${owner} and status = 'running'
      returning export_id, org_id, project_id, row_count, size_bytes, sha256
    ), linked as (
      insert into exported_file (export_id, file_version_id, row_count)
      select done.export_id, counted.key::integer, counted.value::bigint
      from done cross join jsonb_each_text(${JSON.stringify(done.state.versions)}::jsonb) counted
      on conflict (export_id, file_version_id) do update set row_count = excluded.row_count
    ), audited as (
      ${auditInsert(systemActor(owner), {
        action: "export_log.succeed",
        entity_type: "export_log",
        entity_id: sql`done.export_id`,
        org_id: sql`done.org_id`,
        project_id: sql`done.project_id`,
        before: { status: "running" },
        after: sql`jsonb_build_object('status', 'succeeded', 'row_count', done.row_count, 'size_bytes', done.size_bytes, 'sha256', done.sha256)`,
      }, sql`done`)}
    )
    select export_id from done`);
  if (result.rows.length === 0) throw new LeaseLost(`export ${exportId}: claim lost before it was marked succeeded`);
}

/** Notes why this attempt failed (shown once the export is failed) and releases the claim so the retry can take it at once. */
export async function saveAttemptError(db: Database, exportId: number, owner: string, message: string): Promise<void> {
  await db.execute(sql`
    update export_log set error = ${message}, lease_owner = null, lease_expires_at = null, updated_at = now()
    where export_id = ${exportId} and lease_owner = ${owner} and status = 'running'`);
}

/** Hands the export over to the next delivery (a time slice ended). */
export async function releaseClaim(db: Database, exportId: number, owner: string): Promise<void> {
  await db.execute(sql`
    update export_log set lease_owner = null, lease_expires_at = null, updated_at = now()
    where export_id = ${exportId} and lease_owner = ${owner} and status = 'running'`);
}

export type FailedExport = { r2_key: string | null; multipart_upload_id: string | null; status: ExportStatus };

/**
 * The dead-letter verdict: a queued or running export becomes failed, keeping the last
 * attempt's error, audited in the same statement. Answers the storage to clean up for an
 * export that is failed now or was already (a redelivered dead letter cleans up again),
 * and nothing for one that succeeded or no longer exists.
 */
export async function saveFailure(db: Database, exportId: number, owner: string, fallbackError: string): Promise<FailedExport | null> {
  const result = await db.execute(sql`
    with failed as (
      update export_log set status = 'failed', error = coalesce(error, ${fallbackError}),
        lease_owner = null, lease_expires_at = null, completed_at = now(), updated_at = now()
      where export_id = ${exportId} and status in ('queued', 'running')
      returning export_id, org_id, project_id, error, r2_key, multipart_upload_id
    ), audited as (
      ${auditInsert(systemActor(owner), {
        action: "export_log.fail",
        entity_type: "export_log",
        entity_id: sql`failed.export_id`,
        org_id: sql`failed.org_id`,
        project_id: sql`failed.project_id`,
        after: sql`jsonb_build_object('status', 'failed', 'error', failed.error)`,
      }, sql`failed`)}
    )
    select r2_key, multipart_upload_id, 'failed'::export_status as status from failed
    union all
    select r2_key, multipart_upload_id, status from export_log
    where export_id = ${exportId} and not exists (select 1 from failed)`);
  const row = result.rows[0] as FailedExport | undefined;
  return row && row.status === "failed" ? row : null;
}
