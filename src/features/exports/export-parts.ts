/**
 * Byte plumbing for the export writer: cutting a byte stream into R2 multipart parts of
 * exactly `partSize` bytes (R2 requires every part but the last to have the same size),
 * and hashing the finished object.
 */
import { createHash } from "node:crypto";

/** R2 (and Miniflare) refuse non-final parts below 5 MiB. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

/** The subset of an R2 bucket the export writer uses (an R2Bucket binding, or Miniflare's from Node). */
export type ExportBucket = Pick<R2Bucket, "createMultipartUpload" | "resumeMultipartUpload" | "head" | "get" | "put" | "delete">;

/**
 * Two part-sized buffers: one filling while the other uploads. The caller awaits the
 * previous upload before taking the next part, so at most two parts are ever held:
 * memory is 2 × partSize whatever the export's size.
 */
export class PartAssembler {
  readonly partSize: number;
  private current: Uint8Array;
  private spare: Uint8Array | null = null;
  private filled = 0;

  constructor(partSize: number) {
    this.partSize = partSize;
    this.current = new Uint8Array(partSize);
  }

  /** Copies as much of `bytes` as fits in the current part; returns how many bytes it took. */
  write(bytes: Uint8Array): number {
    const taken = Math.min(bytes.length, this.partSize - this.filled);
    this.current.set(bytes.subarray(0, taken), this.filled);
    this.filled += taken;
    return taken;
  }

  get full(): boolean {
    return this.filled === this.partSize;
  }

  get pending(): number {
    return this.filled;
  }

  /**
   * Hands out the filled bytes and starts a new part in the other buffer. The returned
   * view stays valid until the next `take()`, by which time its upload has finished.
   */
  take(): Uint8Array {
    const taken = this.current;
    this.current = this.spare ?? new Uint8Array(this.partSize);
    this.spare = taken;
    const part = taken.subarray(0, this.filled);
    this.filled = 0;
    return part;
  }
}

/**
 * SHA-256 of a stored object, read back in ranges: a running hash cannot be saved
 * between two invocations (neither WebCrypto nor node:crypto can serialise its state), so
 * an export written over several deliveries is hashed once finished, `rangeBytes` at a
 * time, in constant memory (one written in a single delivery is hashed as it is written). Ranged
 * reads rather than one stream: each is a short request (a slow reader never holds one
 * connection for a whole gigabyte), and R2 hands a range over as one buffer instead of
 * many small stream chunks. node:crypto rather than crypto.DigestStream so the same code
 * runs in a Worker (nodejs_compat) and under Node.
 */
export async function sha256OfObject(bucket: ExportBucket, key: string, size: number, rangeBytes: number): Promise<string> {
  const hash = createHash("sha256");
  for (let offset = 0; offset < size; offset += rangeBytes) {
    const length = Math.min(rangeBytes, size - offset);
    const object = await bucket.get(key, { range: { offset, length } });
    if (!object) throw new Error(`object ${key} is missing`);
    const bytes = new Uint8Array(await object.arrayBuffer());
    if (bytes.length !== length) throw new Error(`object ${key}: read ${bytes.length} bytes at ${offset} where ${length} were expected`);
    hash.update(bytes);
  }
  return hash.digest("hex");
}
