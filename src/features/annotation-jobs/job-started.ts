/**
 * Jobs this isolate has seen past `not_started`. No move of the status machine leads back
 * to `not_started` (job-status.ts; a test in tests/annotations.test.ts holds it to that), so a job
 * seen past it can never be started again, and a save of it leaves out the statement's
 * start chain (the job's move to in_progress, its project following, their audit
 * events): four CTEs that PostgreSQL otherwise plans and runs on every save for the one
 * save that starts the job (about 0.3 ms a save, BENCHMARKS.md). A job this isolate has
 * not seen gets the chain, so the first save of a job starts it whichever isolate takes it.
 */
import type { JobStatus } from "./job-status.ts";

const MAX_REMEMBERED = 10_000;
const startedJobs = new Set<number>();

/** Whether this isolate has seen job `jobId` in a status other than `not_started`. */
export function knownStarted(jobId: number): boolean {
  return startedJobs.has(jobId);
}

/** Remembers the status a statement read for job `jobId` (before its own change), and whether it started it. */
export function noteJobStatus(jobId: number, status: JobStatus, startedNow: boolean) {
  if (status === "not_started" && !startedNow) return;
  if (startedJobs.size >= MAX_REMEMBERED) startedJobs.clear();
  startedJobs.add(jobId);
}
