/**
 * How a multipart upload is cut. R2 wants every part but the last of one size, parts of
 * 5 MiB to 5 GiB, and at most 10,000 of them. We aim at no more than 1,000 parts (one
 * presigned URL each in the answer) in whole MiB, never under the 5 MiB minimum.
 */
const MIB = 1024 * 1024;

export const MIN_PART_BYTES = 5 * MIB;
export const MAX_PART_BYTES = 5 * 1024 * MIB;
export const MAX_PARTS = 10_000;
const TARGET_PARTS = 1_000;

export type PartPlan = { part_size: number; part_count: number; last_part_size: number };

export function planParts(sizeBytes: number): PartPlan {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 1) throw new RangeError("a multipart upload needs at least one byte");
  const wanted = Math.ceil(sizeBytes / TARGET_PARTS / MIB) * MIB;
  const partSize = Math.min(Math.max(wanted, MIN_PART_BYTES), MAX_PART_BYTES);
  const partCount = Math.ceil(sizeBytes / partSize);
  if (partCount > MAX_PARTS) throw new RangeError(`${sizeBytes} bytes need more than ${MAX_PARTS} parts`);
  return { part_size: partSize, part_count: partCount, last_part_size: sizeBytes - (partCount - 1) * partSize };
}

/** The byte length of part `partNumber` (1-based) under `plan`. */
export function partLength(plan: PartPlan, partNumber: number): number {
  return partNumber === plan.part_count ? plan.last_part_size : plan.part_size;
}
