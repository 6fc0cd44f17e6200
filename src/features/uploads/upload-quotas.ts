/**
 * Upload quotas per organization (the project's organization, whoever uploads):
 * - `open_uploads`: uploads started and neither completed nor expired. At the limit, 429
 *   with Retry-After until the next one expires (completing one frees a place sooner).
 * - `upload_bytes_per_day`: bytes declared by the uploads started in the last 24 hours
 *   (a rolling window). Above it, 429 with Retry-After until enough of them have left the
 *   window; a single upload declaring more than the whole limit is 413, since waiting
 *   cannot help it.
 * - `stored_bytes`: bytes of the completed versions of live files, plus those reserved
 *   by open uploads. Above it, 413: only deleting files or a larger quota helps.
 * Defaults come from QUOTA_* (wrangler.toml [vars]); organization.quota_* overrides them.
 *
 * Why the check is exact: it rides in the statement that creates the upload, and the batch
 * first locks the organization's row (FOR NO KEY UPDATE, so inserts referencing it are not
 * held up), so concurrent creations of one organization take turns and each statement's
 * snapshot, taken after the lock, sees the uploads the others committed.
 */
import { sql, type SQL } from "drizzle-orm";
import { ApiError } from "../../lib/errors.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";

export const QUOTA_NAMES = ["open_uploads", "upload_bytes_per_day", "stored_bytes"] as const;

/** The first statement of the creating batch: serialises upload creation per organization. */
export function lockQuotaOwner(projectId: number): SQL {
  return sql`select o.org_id from organization o
    where o.org_id = (select p.org_id from project p where p.project_id = ${projectId}) for no key update`;
}

/**
 * A CTE body over `target` (org_id): the organization's limits, its usage, and whether an
 * upload of `sizeBytes` fits (`fits`). `*_retry_after` are seconds, set only when over.
 */
export function quotaCheck(ctx: AuthenticatedContext, sizeBytes: number): SQL {
  const { config } = ctx;
  const size = sql`${sizeBytes}::bigint`;
  return sql`select q.*,
      ${size} <= q.upload_bytes_per_day_limit and q.stored_bytes + ${size} <= q.stored_bytes_limit
        and q.open_uploads < q.open_uploads_limit and q.upload_bytes_per_day + ${size} <= q.upload_bytes_per_day_limit as fits,
      case when q.upload_bytes_per_day + ${size} > q.upload_bytes_per_day_limit and ${size} <= q.upload_bytes_per_day_limit then (
        -- The oldest uploads of the window leave it one by one; the answer is when enough have.
        select ceil(extract(epoch from w.created_at + interval '1 day' - now()))::integer
        from (select created_at, sum(size_bytes) over (order by created_at, upload_id) as leaving
              from upload where org_id = q.org_id and created_at > now() - interval '1 day') w
        where w.leaving >= q.upload_bytes_per_day + ${size} - q.upload_bytes_per_day_limit
        order by w.created_at limit 1
      ) end as upload_bytes_per_day_retry_after
    from (
      select t.org_id,
        coalesce(o.quota_open_uploads, ${config.QUOTA_OPEN_UPLOADS}::integer) as open_uploads_limit,
        coalesce(o.quota_upload_bytes_per_day, ${config.QUOTA_UPLOAD_BYTES_PER_DAY}::bigint) as upload_bytes_per_day_limit,
        coalesce(o.quota_stored_bytes, ${config.QUOTA_STORED_BYTES}::bigint) as stored_bytes_limit,
        usage.*
      from target t join organization o on o.org_id = t.org_id
      cross join lateral (
        select count(*) filter (where u.status = 'pending' and u.expires_at > now())::integer as open_uploads,
          ceil(extract(epoch from min(u.expires_at) filter (where u.status = 'pending' and u.expires_at > now()) - now()))::integer
            as open_uploads_retry_after,
          coalesce(sum(u.size_bytes) filter (where u.created_at > now() - interval '1 day'), 0)::bigint as upload_bytes_per_day,
          coalesce(sum(u.size_bytes) filter (where (u.status = 'pending' and u.expires_at > now())
            or (u.status = 'completed' and f.deleted_at is null and p.deleted_at is null)), 0)::bigint as stored_bytes
        from upload u
        join file f on f.file_id = u.file_id
        join project p on p.project_id = u.project_id
        where u.org_id = t.org_id
      ) usage
    ) q`;
}

/** The columns `quotaCheck` adds to the creating statement's answer. */
export type QuotaRow = {
  quota_fits: boolean | null;
  open_uploads_limit: number | string | null;
  open_uploads: number | string | null;
  open_uploads_retry_after: number | string | null;
  upload_bytes_per_day_limit: number | string | null;
  upload_bytes_per_day: number | string | null;
  upload_bytes_per_day_retry_after: number | string | null;
  stored_bytes_limit: number | string | null;
  stored_bytes: number | string | null;
};

/** Select-list of the creating statement's answer: the quota columns, from CTE `quota`. */
export const QUOTA_COLUMNS = sql.raw(
  ["open_uploads_limit", "open_uploads", "open_uploads_retry_after", "upload_bytes_per_day_limit", "upload_bytes_per_day",
    "upload_bytes_per_day_retry_after", "stored_bytes_limit", "stored_bytes"]
    .map((column) => `(select ${column} from quota) as ${column}`).concat("(select fits from quota) as quota_fits").join(", "),
);

const retryAfter = (seconds: number) => ({ "Retry-After": String(Math.max(1, seconds)) });

/** The refusal naming the first quota an upload of `sizeBytes` breaks; null when it fits. */
export function quotaRefusal(row: QuotaRow, sizeBytes: number): ApiError | null {
  if (row.quota_fits !== false) return null;
  const open = { limit: Number(row.open_uploads_limit), used: Number(row.open_uploads) };
  const daily = { limit: Number(row.upload_bytes_per_day_limit), used: Number(row.upload_bytes_per_day) };
  const stored = { limit: Number(row.stored_bytes_limit), used: Number(row.stored_bytes) };
  if (sizeBytes > daily.limit) {
    return new ApiError("payload_too_large",
      `Quota upload_bytes_per_day: your organization may start uploads of at most ${daily.limit} bytes in any 24 hours; ` +
      `this one alone declares ${sizeBytes} (${daily.used} declared in the last 24 hours).`);
  }
  if (stored.used + sizeBytes > stored.limit) {
    return new ApiError("payload_too_large",
      `Quota stored_bytes: your organization may store at most ${stored.limit} bytes; ${stored.used} are stored or reserved ` +
      `by open uploads, and this upload declares ${sizeBytes}. Delete files, or ask for a larger quota.`);
  }
  if (open.limit === 0) {
    return new ApiError("forbidden", "Quota open_uploads: your organization's limit is 0 open uploads, so it may not upload files; ask for a quota.");
  }
  if (open.used >= open.limit) {
    return new ApiError("rate_limited",
      `Quota open_uploads: your organization may have at most ${open.limit} open uploads (started, neither completed nor expired); ` +
      `${open.used} are open. Complete one, or retry when the next expires.`,
      { headers: retryAfter(Number(row.open_uploads_retry_after ?? 1)) });
  }
  return new ApiError("rate_limited",
    `Quota upload_bytes_per_day: your organization may start uploads of at most ${daily.limit} bytes in any 24 hours; ` +
    `${daily.used} were declared in the last 24 hours, and this upload declares ${sizeBytes}.`,
    { headers: retryAfter(Number(row.upload_bytes_per_day_retry_after ?? 1)) });
}
