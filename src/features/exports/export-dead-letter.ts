/**
 * The end of the line for an export whose message exhausted its retries: the export is
 * marked failed (keeping the last attempt's error), and what it left in storage goes:
 * the multipart upload is aborted (R2 would otherwise keep its parts, and bill them, until
 * its own clean-up), and an object completed before the failure is deleted, since a
 * failed export offers no download.
 */
import type { ExportDeps } from "./export-writer.ts";
import { saveFailure } from "./export-records.ts";

export const GAVE_UP_ERROR = "The export could not be written after repeated attempts.";

/** R2's answer for an upload that is already completed or aborted: nothing left to abort. */
function isGoneUpload(error: unknown): boolean {
  return error instanceof Error && /does not exist|NoSuchUpload|10024/i.test(error.message);
}

export async function failExport(deps: Pick<ExportDeps, "db" | "bucket" | "logger">, exportId: number, owner: string): Promise<void> {
  const failed = await saveFailure(deps.db, exportId, owner, GAVE_UP_ERROR);
  if (!failed?.r2_key) return;
  if (failed.multipart_upload_id) {
    try {
      await deps.bucket.resumeMultipartUpload(failed.r2_key, failed.multipart_upload_id).abort();
    } catch (error) {
      if (!isGoneUpload(error)) throw error;
    }
  }
  await deps.bucket.delete(failed.r2_key);
  deps.logger.warn("export failed", { export_id: exportId });
}
