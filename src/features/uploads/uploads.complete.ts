/**
 * `complete`: checks the object is in R2 with the declared size (and SHA-256 when one
 * was declared), numbers the version, marks it ready and queues its parse.
 *
 * An object is hashed at most once (security review M-5): a complete with a SHA-256 to
 * check claims the upload in the statement that reads it, and holds the claim while it
 * hashes; a concurrent complete answers 409 with Retry-After. A mismatch is recorded with
 * the object's ETag, so a retry on the same bytes answers without hashing.
 *
 * Round trips: 2 (read and claim, then one batch that numbers the version); 1 when the
 * upload was already completed or another request holds it; 2 when a claimed
 * verification fails (the claim is given back, with the mismatch when there was one).
 */
import { sql, type SQL } from "drizzle-orm";
import { projectVisible } from "../../lib/access.ts";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { runWrite } from "../../lib/write.ts";
import { sendParseMessages } from "../../queues/producers.ts";
import { objectSha256 } from "../../storage/digest.ts";
import { can } from "../auth/principal.ts";
import { presentFileVersion, type FileVersionRow, type FileVersionView } from "../files/files.presenters.ts";
import { forbidden, VERSION_COLUMNS } from "./uploads.service.ts";

type UploadState = FileVersionRow & {
  upload_id: number;
  upload_status: "pending" | "completed" | "aborted";
  expired: boolean;
  upload_expires_at: string;
  object_key: string;
  multipart_upload_id: string | null;
  part_size: number | null;
  declared_size: number | string;
  declared_sha256: string | null;
  hashed_etag: string | null;
  hashed_sha256: string | null;
  /** The hashing lease this request took (its expiry in µs since the epoch), null when it took none. */
  lease_token: string | null;
  /** Seconds left on a lease another request holds; null or ≤ 0 when none. */
  lease_seconds_left: number | null;
};

export type CompleteUploadInput = { parts?: { part_number: number; etag: string }[] | undefined };

/**
 * A request hashing an object holds the upload this long; it covers hashing the largest
 * object within the Worker's CPU limit (wrangler.toml, 300 s, ~1.5 s per GiB). If the
 * request dies, another may take over once it has run out.
 */
const HASH_LEASE_SECONDS = 300;
/** For Retry-After while another request hashes: reading and hashing, with margin. */
const HASH_BYTES_PER_SECOND = 256 * 1024 * 1024;

/**
 * One statement: the upload as the caller sees it and — when a SHA-256 is to be checked,
 * the caller may upload, the upload is still open and no other request holds it — the
 * hashing lease. The UPDATE re-checks the lease on the locked row, so of two concurrent
 * completes exactly one gets it; the other answers 409 rather than hash the object again.
 */
async function claimUpload(ctx: AuthenticatedContext, uploadId: number): Promise<UploadState | undefined> {
  const result = await ctx.db.execute(sql`
    with found as (
      select u.upload_id, u.status as upload_status, u.expires_at <= now() as expired, u.expires_at as upload_expires_at,
        u.r2_key as object_key, u.multipart_upload_id, u.part_size, u.size_bytes as declared_size, u.sha256 as declared_sha256,
        u.hashed_etag, u.hashed_sha256, ceil(extract(epoch from u.verify_lease_until - now()))::integer as lease_seconds_left,
        ${VERSION_COLUMNS}
      from upload u
      join project p on p.project_id = u.project_id and p.deleted_at is null
      join file f on f.file_id = u.file_id and f.deleted_at is null
      join file_version fv on fv.version_id = u.version_id
      where u.upload_id = ${uploadId} and ${projectVisible(ctx.principal, "p")}
    ), claimed as (
      update upload u set verify_lease_until = now() + make_interval(secs => ${HASH_LEASE_SECONDS})
      from found
      where u.upload_id = found.upload_id and ${can(ctx.principal, "file:upload")}::boolean
        and u.status = 'pending' and u.expires_at > now() and u.sha256 is not null
        and (u.part_size is null or u.multipart_upload_id is not null)
        and (u.verify_lease_until is null or u.verify_lease_until <= now())
      returning (extract(epoch from u.verify_lease_until) * 1000000)::bigint::text as lease_token
    )
    select found.*, (select lease_token from claimed) as lease_token from found`);
  return result.rows[0] as UploadState | undefined;
}

/**
 * Gives the lease back — only this request's own: one that outlived it and was taken
 * over is left to its new holder. After a hash that did not match, records which object
 * (ETag) it was and what it hashed to, with an audit row, so a retry on the same object
 * answers without hashing it again.
 */
async function releaseUpload(ctx: AuthenticatedContext, upload: UploadState, hashed: HashedObject | null): Promise<void> {
  const ours = sql`upload_id = ${upload.upload_id} and status = 'pending'
    and (extract(epoch from verify_lease_until) * 1000000)::bigint = ${upload.lease_token}::bigint`;
  if (!hashed) {
    await ctx.db.execute(sql`update upload set verify_lease_until = null where ${ours}`);
    return;
  }
  await ctx.db.execute(sql`
    with released as (
      update upload set verify_lease_until = null, hashed_etag = ${hashed.etag}, hashed_sha256 = ${hashed.sha256}
      where ${ours}
      returning upload_id, version_id, project_id, org_id, sha256
    ), audited as (
      ${auditInsert(ctx, {
        action: "file_version.verify_failed",
        entity_type: "file_version",
        entity_id: sql`released.version_id`,
        org_id: sql`released.org_id`,
        project_id: sql`released.project_id`,
        after: sql`jsonb_build_object('upload_id', released.upload_id, 'declared_sha256', released.sha256,
          'stored_sha256', ${hashed.sha256}::text, 'bytes_removed', ${hashed.removed}::boolean)`,
      }, sql`released`)}
    )
    select upload_id from released`);
}

function completionInProgress(upload: UploadState): never {
  const estimate = Math.ceil(Number(upload.declared_size) / HASH_BYTES_PER_SECOND) + 1;
  const seconds = Math.max(1, Math.min(upload.lease_seconds_left ?? 1, estimate));
  throw new ApiError("conflict", `Upload ${upload.upload_id} is being completed by another request, which is verifying its SHA-256; retry in ${seconds} s.`, {
    headers: { "Retry-After": String(seconds) },
  });
}

/** The parts list of a multipart upload must be exactly parts 1…N, each once (N from the part size it was cut with). */
function checkParts(upload: UploadState, input: CompleteUploadInput): R2UploadedPart[] {
  const partCount = Math.ceil(Number(upload.declared_size) / upload.part_size!);
  const parts = input.parts ?? [];
  const numbers = parts.map((part) => part.part_number).sort((a, b) => a - b);
  const complete = numbers.length === partCount && numbers.every((number, index) => number === index + 1);
  if (!complete) {
    throw new ApiError("validation_failed", `This multipart upload has ${partCount} parts; list each of them once with its ETag.`, {
      errors: [{ path: "body.parts", message: `must list part_number 1 to ${partCount}, each once` }],
    });
  }
  // Storage answers ETags quoted ("…"); R2's binding wants them bare, and the parts in order.
  return parts
    .map((part) => ({ partNumber: part.part_number, etag: part.etag.replace(/^(W\/)?"|"$/g, "") }))
    .sort((a, b) => a.partNumber - b.partNumber);
}

async function assembleMultipart(ctx: AuthenticatedContext, upload: UploadState, parts: R2UploadedPart[]): Promise<void> {
  const bucket = ctx.config.FILES;
  // A previous complete may have assembled the object and then failed a check.
  if (await bucket.head(upload.object_key)) return;
  try {
    await bucket.resumeMultipartUpload(upload.object_key, upload.multipart_upload_id!).complete(parts);
  } catch (error) {
    // A concurrent complete may have won the race; the object is what matters.
    if (await bucket.head(upload.object_key)) return;
    throw new ApiError("validation_failed", `Storage could not assemble the parts: ${error instanceof Error ? error.message : String(error)}.`, {
      errors: [{ path: "body.parts", message: "must carry the ETag storage answered each part's PUT with" }],
    });
  }
}

type HashedObject = { etag: string; sha256: string; removed: boolean };

/**
 * Size, then (when declared) the SHA-256 of the stored bytes: hashed here, unless this
 * very object (same ETag) was hashed by an earlier complete that found a mismatch.
 * Answers what was hashed, or null when no SHA-256 was declared.
 */
async function verifyObject(ctx: AuthenticatedContext, upload: UploadState): Promise<HashedObject | null> {
  const object = await ctx.config.FILES.head(upload.object_key);
  if (!object) {
    const refused = upload.hashed_sha256 === null ? "" : ` (the bytes PUT before had the SHA-256 ${upload.hashed_sha256} and were removed)`;
    throw new ApiError("conflict", `Nothing has been uploaded for upload ${upload.upload_id} yet${refused}; PUT the bytes to its presigned URL(s) first.`);
  }
  const declared = Number(upload.declared_size);
  if (object.size !== declared) {
    throw new ApiError("validation_failed", `The stored file has ${object.size} bytes, but the upload declared ${declared}.`, {
      errors: [{ path: "size_bytes", message: `declared ${declared}, stored ${object.size}` }],
    });
  }
  if (!upload.declared_sha256) return null;
  const known = upload.hashed_etag === object.etag ? upload.hashed_sha256 : null;
  const sha256 = known ?? (await objectSha256(ctx.config.FILES, upload.object_key));
  if (sha256 === null) throw new ApiError("conflict", `The bytes of upload ${upload.upload_id} disappeared while being verified; PUT them again.`);
  return { etag: object.etag, sha256, removed: false };
}

/**
 * One batch (one transaction): lock the file row, so concurrent completes of versions
 * of one file take turns; then, only if the upload is still pending, number the version
 * max + 1 (the statement starts after the lock is granted, so it sees the other
 * versions' numbers), mark it ready and queued, make it the file's current version and
 * audit it; then read the version as it now stands.
 */
function markReady(ctx: AuthenticatedContext, upload: UploadState): SQL[] {
  return [
    sql`select file_id from file where file_id = ${upload.file_id} for update`,
    sql`with completed as (
        update upload set status = 'completed', completed_at = now(), verify_lease_until = null
        where upload_id = ${upload.upload_id} and status = 'pending'
        returning upload_id, version_id, file_id, project_id, org_id
      ), numbered as (
        update file_version fv set
          version_number = (select coalesce(max(other.version_number), 0) + 1 from file_version other where other.file_id = fv.file_id),
          status = 'ready', parse_status = 'queued', completed_at = now(), updated_at = now()
        from completed where fv.version_id = completed.version_id
        returning fv.version_id, fv.file_id, fv.version_number, completed.upload_id, completed.project_id, completed.org_id
      ), made_current as (
        update file f set current_version_id = numbered.version_id, updated_at = now(),
          status = case when f.status = 'pending' then 'ready_for_annotation'::file_status else f.status end
        from numbered where f.file_id = numbered.file_id
        returning f.file_id
      ), audited as (
        ${auditInsert(ctx, {
          action: "file_version.complete",
          entity_type: "file_version",
          entity_id: sql`numbered.version_id`,
          org_id: sql`numbered.org_id`,
          project_id: sql`numbered.project_id`,
          before: sql`jsonb_build_object('status', 'pending', 'version_number', null, 'parse_status', null)`,
          after: sql`jsonb_build_object('status', 'ready', 'version_number', numbered.version_number, 'parse_status', 'queued',
            'upload_id', numbered.upload_id)`,
        }, sql`numbered`)}
      )
      select version_id from numbered`,
    sql`select u.status as upload_status, ${VERSION_COLUMNS}
      from upload u join file_version fv on fv.version_id = u.version_id where u.upload_id = ${upload.upload_id}`,
  ];
}

export async function completeUpload(ctx: AuthenticatedContext, uploadId: number, input: CompleteUploadInput): Promise<FileVersionView> {
  const upload = await claimUpload(ctx, uploadId);
  if (!upload) throw new ApiError("not_found", `Upload ${uploadId} does not exist.`);
  if (!can(ctx.principal, "file:upload")) forbidden();
  if (upload.upload_status === "completed") return presentFileVersion(upload);
  if (upload.upload_status === "aborted") throw new ApiError("conflict", `Upload ${uploadId} was aborted; start a new upload.`);
  if (upload.expired) {
    throw new ApiError("conflict", `Upload ${uploadId} expired at ${new Date(upload.upload_expires_at).toISOString()}; start a new upload.`);
  }
  if (upload.multipart_upload_id === null && upload.part_size !== null) {
    throw new ApiError("conflict", `Upload ${uploadId} never got its multipart upload from storage; start a new upload.`);
  }
  if (upload.declared_sha256 !== null && upload.lease_token === null) completionInProgress(upload);

  let hashed: HashedObject | null;
  try {
    if (upload.multipart_upload_id !== null) {
      await assembleMultipart(ctx, upload, checkParts(upload, input));
    } else if (input.parts !== undefined) {
      throw new ApiError("validation_failed", `Upload ${uploadId} is a single PUT; parts are for multipart uploads.`, {
        errors: [{ path: "body.parts", message: "must be absent for a single-PUT upload" }],
      });
    }
    hashed = await verifyObject(ctx, upload);
  } catch (error) {
    if (upload.lease_token !== null) await releaseUpload(ctx, upload, null);
    throw error;
  }

  if (hashed && hashed.sha256 !== upload.declared_sha256) {
    // A single PUT's URL may create the object but never replace it (If-None-Match: *), so
    // the wrong bytes are removed, still under the lease, for the same URL to take the
    // right ones. A multipart object cannot be sent again: its parts are spent.
    if (upload.multipart_upload_id === null) {
      await ctx.config.FILES.delete(upload.object_key);
      hashed.removed = true;
    }
    await releaseUpload(ctx, upload, hashed);
    const next = hashed.removed ? "PUT the right bytes to the same URL, then complete again" : "start a new upload";
    throw new ApiError("validation_failed", `The stored file's SHA-256 is ${hashed.sha256}, but the upload declared ${upload.declared_sha256}; ${next}.`, {
      errors: [{ path: "sha256", message: "does not match the stored bytes" }],
    });
  }

  const [, transitioned = [], current = []] = await runWrite(ctx, markReady(ctx, upload));
  const row = current[0] as (FileVersionRow & { upload_status: string }) | undefined;
  if (!row) throw new ApiError("not_found", `Upload ${uploadId} does not exist.`);
  if (transitioned.length > 0) {
    try {
      await sendParseMessages(ctx.config.PARSE_QUEUE, [{ version_id: row.version_id, generation: 0 }]);
    } catch (error) {
      // The version is ready either way; the scheduled sweep re-sends parse messages of
      // versions left queued (uploads.cleanup.ts), and the consumer is idempotent.
      ctx.logger.error("could not queue the parse of a completed upload", { version_id: row.version_id, error: String(error) });
    }
  }
  return presentFileVersion(row);
}

