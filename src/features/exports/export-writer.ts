/**
 * The export work function: streams an export's rows into an R2 multipart upload, one
 * part at a time, saving after each part where it stands (export-state.ts), and finishes
 * with the object's sha256 and the export_log verdict. A plain function of a database
 * and a bucket, so the queue consumer and the tests drive it, and so can a script under
 * Node (with Miniflare's R2 bucket and the local Neon gateway).
 *
 * Guarantees:
 * - Memory stays constant: three chunks of rows (one being written, two being read, each
 *   about 4 MiB of text) plus two part buffers, whatever the size.
 * - A retry (after any failure, at any point) resumes after the last saved part and the
 *   finished file is byte-identical to a clean run's; so is a duplicate delivery, which
 *   finds the export claimed or finished and leaves it alone.
 * - Rows are read in keyset order (job_id, row_index), never with OFFSET.
 *
 * Consistency: each chunk reads the rows as they are at that moment. Approved jobs are
 * settled, so an `approved` export reads a stable set; an `all` export of a project still
 * being annotated gets each row as it was when its chunk was read.
 */
import { createHash } from "node:crypto";
import type { Database } from "../../db/client.ts";
import type { UploadedPart } from "../../db/schema/exports.ts";
import { errorFields, type Logger } from "../../lib/logger.ts";
import { httpMetadataOf, layoutOf, rowLineSql, type ExportRow } from "./export-format.ts";
import { MIN_PART_SIZE, PartAssembler, sha256OfObject, type ExportBucket } from "./export-parts.ts";
import {
  claimExport,
  LeaseLost,
  releaseClaim,
  saveAttemptError,
  savePart,
  saveStart,
  saveSuccess,
  type ExportRecord,
} from "./export-records.ts";
import { chunksAfter, type ChunkReader } from "./export-chunks.ts";
import { planExport, readChunk, type ExportSelection } from "./export-rows.ts";
import { isFinished, resumeStateSchema, type ResumeState, type RowKey } from "./export-state.ts";

export type ExportDeps = { db: Database; bucket: ExportBucket; logger: Logger };

export const EXPORT_DEFAULTS = {
  /** 8 MiB parts: 1,280 parts for a 10 GiB file, far from R2's 10,000-part limit. */
  partSize: 8 * 1024 * 1024,
  /** At most this many rows per keyset query … */
  chunkRows: 5000,
  /**
   * … and about this many bytes: a chunk's row count follows the row size of a chunk read
   * three before it (export-chunks.ts asks two ahead), which keeps memory flat for wide
   * rows and each answer well under the Neon HTTP endpoint's 10 MB response limit.
   */
  chunkBytes: 4 * 1024 * 1024,
  /** How long a claim holds without a saved part; far above the time one part takes. */
  leaseSeconds: 300,
  /**
   * One invocation writes at most this long or this many bytes, then stops after a part
   * and asks for a fresh message to carry on: well inside a queue consumer's 15 minutes
   * of wall time and its CPU limit (wrangler.background.toml: 300 s), however large the
   * export. The CPU goes into encoding, hashing, copying and the driver's JSON parsing,
   * in proportion to the bytes: 7–13 ns a byte of the isolate's JavaScript in the bench's
   * profiles, 27–31 ns with all of workerd's own work, the local R2 included (BENCHMARKS.md,
   * "Export at 0.78 of COPY"), so 2 GiB is 15–28 s, at most 67 s. An export that spans
   * invocations is hashed by reading it back (finishExport): at 512 MiB a slice, the
   * bench's 603 MiB export did that and took 1.6× as long.
   */
  sliceMs: 5 * 60 * 1000,
  sliceBytes: 2 * 1024 * 1024 * 1024,
} as const;

/** The queue delivery doing the work: a redelivery of the same message (a higher attempt) may take over its claim. */
export type Delivery = { id: string; attempt: number };

export type ExportWorkOptions = {
  delivery: Delivery;
  /** Part size for an export that starts now; a resumed export keeps the size it started with. */
  partSize?: number;
  chunkRows?: number;
  chunkBytes?: number;
  leaseSeconds?: number;
  sliceMs?: number;
  sliceBytes?: number;
  /** Called after each part is uploaded and saved; tests throw here to crash the writer after part k. */
  onPartSaved?: (partNumber: number) => void | Promise<void>;
};

/** succeeded: done now or earlier; continue: time slice over, send the message again; skipped: nothing to do here. */
export type ExportOutcome = "succeeded" | "continue" | "skipped";

/** A failure with a message fit for the export's `error` field. */
export class ExportError extends Error {
  override name = "ExportError";
}

/** Runs `action`, turning any failure into an ExportError that says which step failed (the cause keeps the details). */
async function step<T>(description: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof ExportError || error instanceof LeaseLost) throw error;
    throw new ExportError(`Failed while ${description}.`, { cause: error });
  }
}

type Settings = Required<Omit<ExportWorkOptions, "onPartSaved" | "delivery">> & Pick<ExportWorkOptions, "onPartSaved"> & {
  /** This invocation's claim: the delivery plus a random nonce, so two concurrent runs of one delivery never share a claim. */
  owner: string;
};

export async function writeExport(deps: ExportDeps, exportId: number, options: ExportWorkOptions): Promise<ExportOutcome> {
  const { delivery, ...rest } = options;
  const owner = `${delivery.id} ${delivery.attempt} ${crypto.randomUUID()}`;
  const settings: Settings = { ...EXPORT_DEFAULTS, ...rest, owner };
  if (settings.partSize < MIN_PART_SIZE) throw new Error(`part size ${settings.partSize} is below R2's minimum of ${MIN_PART_SIZE}`);
  const logger = deps.logger.child({ export_id: exportId });
  const record = await step("claiming the export", () =>
    claimExport(deps.db, exportId, { owner, delivery }, settings.leaseSeconds));
  if (!record || !record.claimed) {
    logger.info("export not claimed", { status: record?.status ?? "absent" });
    return record?.status === "succeeded" ? "succeeded" : "skipped";
  }
  try {
    return await writeClaimed(deps, record, settings, logger);
  } catch (error) {
    if (error instanceof LeaseLost) {
      logger.warn("export claim lost; leaving it to its new owner", { reason: error.message });
      return "skipped";
    }
    const message = error instanceof ExportError ? error.message : "Unexpected internal error while writing the export.";
    await saveAttemptError(deps.db, exportId, settings.owner, message).catch((saveError: unknown) =>
      logger.error("could not record the export's error", errorFields(saveError)));
    throw error;
  }
}

async function writeClaimed(deps: ExportDeps, record: ExportRecord, settings: Settings, logger: Logger): Promise<ExportOutcome> {
  const started = Date.now();
  const key = record.r2_key;
  if (!key) throw new ExportError("The export has no storage key.");
  let state: ResumeState;
  let uploadId: string;
  let parts: UploadedPart[];
  if (record.resume_state === null || record.multipart_upload_id === null) {
    ({ state, uploadId } = await startExport(deps, record, key, settings));
    parts = [];
  } else {
    state = resumeStateSchema.parse(record.resume_state);
    uploadId = record.multipart_upload_id;
    parts = record.uploaded_parts;
    logger.info("resuming export", { parts: parts.length, rows: state.rows });
  }
  let sha256: string | null = null;
  if (!isFinished(state)) {
    const written = await writeParts(deps, record, key, uploadId, state, parts, settings, started);
    if (written === "sliced") {
      await releaseClaim(deps.db, record.export_id, settings.owner);
      return "continue";
    }
    ({ state, parts, sha256 } = written);
  }
  await finishExport(deps, record, key, uploadId, { state, parts, sha256 }, settings);
  return "succeeded";
}

async function startExport(deps: ExportDeps, record: ExportRecord, key: string, settings: Settings) {
  const plan = await step("reading the rows to export", () => planExport(deps.db, selectionOf(record), record.format));
  const upload = await step("starting the upload to storage", () => deps.bucket.createMultipartUpload(key, { httpMetadata: httpMetadataOf(record) }));
  const state: ResumeState = { part_size: settings.partSize, after: "start", offset: 0, rows: 0, versions: {}, columns: plan.columns };
  try {
    await step("saving the export's start", () =>
      saveStart(deps.db, record.export_id, settings.owner, { uploadId: upload.uploadId, total: plan.total, state, leaseSeconds: settings.leaseSeconds }));
  } catch (error) {
    // Certainly unused only when the save was refused; after any other failure it may have been committed.
    if (error instanceof LeaseLost) await upload.abort().catch(() => undefined);
    throw error;
  }
  return { state, uploadId: upload.uploadId };
}

function selectionOf(record: ExportRecord): ExportSelection {
  return { project_id: record.project_id, scope: record.scope, filters: record.filters };
}

type Piece = { text: string; row: ExportRow | null; end: RowKey | "end" | null };

/**
 * The file from `state.after` on, piece by piece: the prefix (only from the start), one
 * piece per row, the suffix. `end` names the position a piece finishes (null for the
 * prefix, which is never a resume point: resuming inside or right after it restarts it).
 * The next chunks are read while the current one is written (export-chunks.ts).
 */
async function* piecesAfter(deps: ExportDeps, record: ExportRecord, state: ResumeState, settings: Settings): AsyncGenerator<Piece> {
  const layout = layoutOf(record.format, state.columns);
  const selection = selectionOf(record);
  const line = rowLineSql(record.format, state.columns);
  const read: ChunkReader = (after, limit, ahead) =>
    step("reading the rows to export", () => readChunk(deps.db, selection, line, after, limit, ahead));
  if (state.after === "start") yield { text: layout.prefix(), row: null, end: null };
  let rows = state.rows;
  for await (const chunk of chunksAfter(read, state.after === "start" ? null : (state.after as RowKey), settings)) {
    for (const row of chunk) {
      yield { text: layout.row(row.line, rows === 0), row, end: { job_id: row.job_id, row_index: row.row_index } };
      rows += 1;
    }
  }
  yield { text: layout.suffix(rows), row: null, end: "end" };
}

/** `sha256`: of the whole file, when this delivery produced it from its first byte; else null. */
type Written = { state: ResumeState; parts: UploadedPart[]; sha256: string | null } | "sliced";

async function writeParts(
  deps: ExportDeps,
  record: ExportRecord,
  key: string,
  uploadId: string,
  saved: ResumeState,
  savedParts: UploadedPart[],
  settings: Settings,
  started: number,
): Promise<Written> {
  const upload = deps.bucket.resumeMultipartUpload(key, uploadId);
  const partSize = saved.part_size;
  const parts = [...savedParts];
  const assembler = new PartAssembler(partSize);
  const encoder = new TextEncoder();
  let uploaded = parts.length * partSize;
  // Bytes from the saved boundary that are already in the uploaded parts.
  let skip = uploaded - saved.offset;
  // Where the stream stands after the current piece, and the boundary before it.
  let offset = saved.offset;
  let rows = saved.rows;
  const versions = { ...saved.versions };
  let boundary: Pick<ResumeState, "after" | "offset" | "rows"> = { after: saved.after, offset: saved.offset, rows: saved.rows };
  let inFlight: Promise<void> = Promise.resolve();
  // A delivery that writes every byte of the file itself hashes it as it goes. One that
  // resumes cannot (a running hash cannot be saved, finishExport reads the object back),
  // nor one that starts at the first byte but skips parts an earlier attempt uploaded:
  // the rows it renders again may have changed since (an `all` export of live jobs), and
  // the stored parts hold the earlier bytes.
  const hash = saved.offset === 0 && savedParts.length === 0 ? createHash("sha256") : null;

  // Uploads the assembled part and then saves it with `state`, while the next part fills.
  const flush = async (state: ResumeState) => {
    await inFlight;
    const bytes = assembler.take();
    const partNumber = parts.length + 1;
    const partsBefore = parts.length;
    uploaded += bytes.length;
    const uploadedBytes = uploaded;
    inFlight = (async () => {
      const part = await step(`uploading part ${partNumber} to storage`, () => upload.uploadPart(partNumber, bytes));
      const entry = { part_number: part.partNumber, etag: part.etag };
      await step(`saving the progress of part ${partNumber}`, () =>
        savePart(deps.db, record.export_id, settings.owner, { part: entry, partsBefore, state, uploadedBytes, leaseSeconds: settings.leaseSeconds }));
      parts.push(entry);
      await settings.onPartSaved?.(partNumber);
    })();
    // Settled by the next flush or the end; a failure meanwhile must not go unhandled.
    inFlight.catch(() => undefined);
  };

  for await (const piece of piecesAfter(deps, record, saved, settings)) {
    let bytes = encoder.encode(piece.text);
    hash?.update(bytes);
    offset += bytes.length;
    const versionKey = piece.row ? String(piece.row.version_id) : null;
    if (versionKey) {
      rows += 1;
      versions[versionKey] = (versions[versionKey] ?? 0) + 1;
    }
    if (skip > 0) {
      const dropped = Math.min(skip, bytes.length);
      bytes = bytes.subarray(dropped);
      skip -= dropped;
    }
    let position = 0;
    while (position < bytes.length) {
      position += assembler.write(bytes.subarray(position));
      if (!assembler.full) continue;
      // The part ends exactly where this piece does: resume after it; otherwise after the previous piece.
      const endsHere = position === bytes.length && piece.end !== null;
      const state: ResumeState = endsHere
        ? { ...saved, after: piece.end!, offset, rows, versions: { ...versions } }
        : { ...saved, ...boundary, versions: withoutPiece(versions, versionKey) };
      await flush(state);
      if (Date.now() - started > settings.sliceMs || uploaded - savedParts.length * partSize >= settings.sliceBytes) {
        await inFlight;
        return "sliced";
      }
    }
    if (piece.end !== null) boundary = { after: piece.end, offset, rows };
  }
  const end: ResumeState = { ...saved, after: "end", offset, rows, versions: { ...versions } };
  if (assembler.pending > 0) {
    await flush(end);
    await inFlight;
  } else {
    await inFlight;
    await step("saving the export's progress", () =>
      savePart(deps.db, record.export_id, settings.owner, { part: null, partsBefore: parts.length, state: end, uploadedBytes: uploaded, leaseSeconds: settings.leaseSeconds }));
  }
  return { state: end, parts, sha256: hash ? hash.digest("hex") : null };
}

/** The per-version counts before the current piece (which is not part of the boundary). */
function withoutPiece(versions: Record<string, number>, versionKey: string | null): Record<string, number> {
  const copy = { ...versions };
  if (versionKey) {
    const count = (copy[versionKey] ?? 0) - 1;
    if (count > 0) copy[versionKey] = count;
    else delete copy[versionKey];
  }
  return copy;
}

/**
 * Completes the upload (unless an earlier attempt already did: the object is there with
 * the final size), checks its size and records the verdict with its SHA-256: the one
 * computed while writing, or, for a file written over several deliveries, the stored
 * object's, read back. An empty file (a JSONL export of no rows) has no parts, which a
 * multipart upload cannot complete: it is put as an empty object instead.
 */
async function finishExport(
  deps: ExportDeps,
  record: ExportRecord,
  key: string,
  uploadId: string,
  { state, parts, sha256: written }: { state: ResumeState; parts: UploadedPart[]; sha256: string | null },
  settings: Settings,
) {
  const upload = deps.bucket.resumeMultipartUpload(key, uploadId);
  const existing = await step("checking the stored export", () => deps.bucket.head(key));
  if (!existing || existing.size !== state.offset) {
    if (state.offset === 0) {
      await step("storing the empty export", () => deps.bucket.put(key, new Uint8Array(0), { httpMetadata: httpMetadataOf(record) }));
      await upload.abort().catch(() => undefined);
    } else {
      await step("completing the upload to storage", () =>
        upload.complete(parts.map((part) => ({ partNumber: part.part_number, etag: part.etag }))));
    }
  }
  const stored = await step("checking the stored export", () => deps.bucket.head(key));
  if (stored?.size !== state.offset) throw new ExportError(`The stored export has ${stored?.size ?? 0} bytes where ${state.offset} were written.`);
  const sha256 = written ?? await step("hashing the stored export", () => sha256OfObject(deps.bucket, key, state.offset, settings.partSize));
  await step("recording the finished export", () => saveSuccess(deps.db, record.export_id, settings.owner, { sha256, size: state.offset, state }));
}
