import type { Config } from "../../env.ts";
import { attachmentDisposition } from "../../storage/content-disposition.ts";
import { presignUrl } from "../../storage/presign.ts";
import { s3Target } from "../../storage/s3-target.ts";
import { exportFilename } from "./export-format.ts";
import type { Download, ExportRow } from "./exports.presenters.ts";

/**
 * A presigned GET of the finished file (DOWNLOAD_URL_TTL_SECONDS, default 5 minutes),
 * saved under exportFilename. Signing is local (HMAC), no round trip; reading the export
 * again gives a fresh URL. Without S3 credentials configured this is a 503 (s3Target).
 */
export async function exportDownload(config: Config, row: Pick<ExportRow, "export_id" | "project_id" | "format" | "r2_key">): Promise<Download> {
  if (!row.r2_key) return null;
  // Whole seconds: SigV4 timestamps have none, and expires_at must be the URL's own expiry.
  const signedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  const url = await presignUrl(s3Target(config), {
    method: "GET",
    operation: "GetObject",
    key: row.r2_key,
    expiresIn: config.DOWNLOAD_URL_TTL_SECONDS,
    signedAt,
    query: { "response-content-disposition": attachmentDisposition(exportFilename(row)) },
  });
  return { url, expires_at: new Date(signedAt.getTime() + config.DOWNLOAD_URL_TTL_SECONDS * 1000).toISOString() };
}
