/**
 * Row verdicts and partial send-back (README "Review per row"): a reviewer accepts or
 * rejects rows of a submitted job; rejecting the job sends back only the rejected rows,
 * which the annotators read with their reasons, may change alone, and must each redo
 * before resubmitting. Every new write is one round trip with its audit row.
 */
import { describe, expect, it } from "vitest";
import { annotate, annotateRows, annotationProject, assign, createJob, eventActions, setStatus, staffedJob } from "./helpers/annotation.ts";
import { createUser, registerClient, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

const reviewPath = (jobId: number, row: number) => `/api/v1/annotation-jobs/${jobId}/items/${row}/review`;

function verdict(account: Account, jobId: number, row: number, body: Record<string, unknown>) {
  return request("PUT", reviewPath(jobId, row), { token: account.token, body });
}

function decideJob(account: Account, jobId: number, body: Record<string, unknown>) {
  return request("POST", `/api/v1/annotation-jobs/${jobId}/reviews`, { token: account.token, body });
}

async function itemsWith(account: Account, jobId: number, review: string) {
  const listed = await request("GET", `/api/v1/annotation-jobs/${jobId}/items?review=${review}`, { token: account.token });
  expect(listed.status, JSON.stringify(listed.body)).toBe(200);
  expect(listed.roundTrips).toBe(1);
  return listed.body.data as { row_index: number; review: { verdict: string; reason: string | null; returned: boolean; reviewer_id: number } | null }[];
}

describe("PUT /annotation-jobs/{job_id}/items/{row_index}/review", () => {
  it("sets and replaces a row's verdict on a submitted job in one round trip, audited as row_review.set", async () => {
    const { job, reviewer, project_id } = await staffedJob({ rows: 2, state: "submitted" });
    const first = await verdict(reviewer, job.job_id, 1, { verdict: "rejected", reason: "Wrong label." });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.roundTrips).toBe(1);
    expect(first.body).toEqual({
      job_id: job.job_id, row_index: 1, verdict: "rejected", stage: "review", reason: "Wrong label.", reviewer_id: reviewer.user_id,
      rejections: 1, returned: false, created_at: expect.any(String), updated_at: expect.any(String),
    });
    const again = await verdict(reviewer, job.job_id, 1, { verdict: "rejected", reason: "Wrong label, see the guide." });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ reason: "Wrong label, see the guide.", rejections: 1 });
    const accepted = await verdict(reviewer, job.job_id, 1, { verdict: "accepted" });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ verdict: "accepted", reason: null, rejections: 1 });

    const events = (await eventActions({ project_id })).filter((event) => event.action === "row_review.set");
    expect(events.map((event) => [event.before, event.after])).toEqual([
      [null, { job_id: job.job_id, row_index: 1, verdict: "rejected", stage: "review", reason: "Wrong label." }],
      [{ verdict: "rejected" }, { job_id: job.job_id, row_index: 1, verdict: "rejected", stage: "review", reason: "Wrong label, see the guide." }],
      [{ verdict: "rejected" }, { job_id: job.job_id, row_index: 1, verdict: "accepted", stage: "review", reason: null }],
    ]);
  });

  it("is 409 unless the job is submitted, 404 outside its range, 422 for a bad verdict", async () => {
    const { job, reviewer, annotator } = await staffedJob({ rows: 2 });
    const early = await verdict(reviewer, job.job_id, 0, { verdict: "accepted" });
    expect(early.status).toBe(409);
    expect(early.roundTrips).toBe(1);
    expect(early.body.detail).toBe(`Job ${job.job_id} is not_started; its rows are reviewed while it is submitted or awaiting QC.`);
    await annotateRows(annotator, job.job_id, 0, 1);
    expect((await setStatus(annotator, job.job_id, "submitted")).status).toBe(200);
    expect((await verdict(reviewer, job.job_id, 2, { verdict: "accepted" })).status).toBe(404);
    const bad = await verdict(reviewer, job.job_id, 0, { verdict: "maybe" });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].path).toBe("body.verdict");
  });

  it("is for the job's reviewers and qc, its pm and admins: its annotator and clients get 403, outsiders 404", async () => {
    const { job, annotator, client, pm, qc } = await staffedJob({ rows: 1, state: "submitted" });
    for (const account of [annotator, client]) {
      const refused = await verdict(account, job.job_id, 0, { verdict: "accepted" });
      expect(refused.status).toBe(403);
      expect(refused.roundTrips).toBe(1);
    }
    for (const outsider of [await createUser("reviewer"), await createUser("pm"), await registerClient()]) {
      expect((await verdict(outsider, job.job_id, 0, { verdict: "accepted" })).status).toBe(404);
    }
    expect((await verdict(qc, job.job_id, 0, { verdict: "accepted" })).status).toBe(201);
    expect((await verdict(pm, job.job_id, 0, { verdict: "rejected" })).status).toBe(200);
  });
});

describe("rejecting a job with rejected rows", () => {
  it("sends back only those rows, with their reasons; resubmission needs only them, redone", async () => {
    const { job, reviewer, annotator, project_id } = await staffedJob({ rows: 4, state: "submitted" });
    expect((await verdict(reviewer, job.job_id, 0, { verdict: "accepted" })).status).toBe(201);
    expect((await verdict(reviewer, job.job_id, 1, { verdict: "rejected", reason: "Typo in the label." })).status).toBe(201);
    expect((await verdict(reviewer, job.job_id, 3, { verdict: "rejected", reason: "This is negative." })).status).toBe(201);

    const approval = await decideJob(reviewer, job.job_id, { status: "approved" });
    expect(approval.status).toBe(409);
    expect(approval.body.detail).toContain("rows 1, 3 are rejected");

    const rejected = await decideJob(reviewer, job.job_id, { status: "rejected", comments: "Two rows to fix." });
    expect(rejected.status).toBe(201);
    expect(rejected.roundTrips).toBe(1);
    const move = (await eventActions({ project_id })).find((event) => event.action === "annotation_job.reject");
    expect(move?.after).toMatchObject({ status: "in_progress", returned_rows: [1, 3] });

    // The annotator sees the rejected rows and why; the accepted one as accepted.
    expect(await itemsWith(annotator, job.job_id, "rejected")).toEqual([
      expect.objectContaining({ row_index: 1, review: expect.objectContaining({ verdict: "rejected", reason: "Typo in the label.", returned: true, reviewer_id: reviewer.user_id }) }),
      expect.objectContaining({ row_index: 3, review: expect.objectContaining({ verdict: "rejected", reason: "This is negative.", returned: true }) }),
    ]);
    expect((await itemsWith(annotator, job.job_id, "accepted")).map((item) => item.row_index)).toEqual([0]);
    expect((await itemsWith(annotator, job.job_id, "none")).map((item) => item.row_index)).toEqual([2]);

    // Only the rejected rows are open: the accepted row and the row without a verdict stay as they were.
    for (const row of [0, 2]) {
      const locked = await annotate(annotator, job.job_id, row, { label: "changed" });
      expect(locked.status).toBe(409);
      expect(locked.roundTrips).toBe(1);
      expect(locked.body.detail).toContain(`Row ${row} of job ${job.job_id} was not sent back by its review`);
    }
    expect((await annotate(annotator, job.job_id, 1, { label: "fixed 1" })).status).toBe(200);
    const early = await setStatus(annotator, job.job_id, "submitted");
    expect(early.status).toBe(409);
    expect(early.body.detail).toContain("its review sent back row 3 and you have not saved it since");
    expect((await annotate(annotator, job.job_id, 3, { label: "negative" })).status).toBe(200);
    const resubmitted = await setStatus(annotator, job.job_id, "submitted");
    expect(resubmitted.status, JSON.stringify(resubmitted.body)).toBe(200);
    expect(resubmitted.body.status).toBe("submitted");

    // The rows keep their verdicts until the reviewer looks again; a new verdict clears `returned`.
    expect((await decideJob(reviewer, job.job_id, { status: "approved" })).status).toBe(409);
    expect((await verdict(reviewer, job.job_id, 1, { verdict: "accepted" })).body).toMatchObject({ returned: false, rejections: 1 });
    const again = await verdict(reviewer, job.job_id, 3, { verdict: "rejected", reason: "Still not negative enough." });
    expect(again.body).toMatchObject({ returned: false, rejections: 2 });
    expect((await verdict(reviewer, job.job_id, 3, { verdict: "accepted" })).status).toBe(200);
    expect((await decideJob(reviewer, job.job_id, { status: "approved" })).status).toBe(201);
  });

  it("with several annotators per row, each of them redoes the returned rows before their resubmission counts", async () => {
    const project = await annotationProject({ rows: 2 });
    const [first, second, reviewer] = await Promise.all([createUser("annotator"), createUser("annotator"), createUser("reviewer")]);
    const job = await createJob(project.pm, project.project_id, { table_id: project.table_id, annotations_per_row: 2 });
    for (const [account, role] of [[first, "annotator"], [second, "annotator"], [reviewer, "reviewer"]] as const) {
      await assign(project.pm, job.job_id, account, role);
    }
    for (const annotator of [first, second]) {
      await annotateRows(annotator, job.job_id, 0, 1);
      expect((await setStatus(annotator, job.job_id, "submitted")).status).toBe(200);
    }
    expect((await verdict(reviewer, job.job_id, 0, { verdict: "rejected", reason: "Ambiguous." })).status).toBe(201);
    expect((await decideJob(reviewer, job.job_id, { status: "rejected", comments: "Row 0." })).status).toBe(201);

    expect((await annotate(first, job.job_id, 0, { label: "clear" })).status).toBe(200);
    expect((await setStatus(first, job.job_id, "submitted")).status).toBe(200);
    const unchanged = await setStatus(second, job.job_id, "submitted");
    expect(unchanged.status).toBe(409);
    expect(unchanged.body.detail).toContain("sent back row 0");
    expect((await annotate(second, job.job_id, 0, { label: "clear" })).status).toBe(200);
    const done = await setStatus(second, job.job_id, "submitted");
    expect(done.body.status).toBe("submitted");
  });
});

describe("rejecting a job without rejected rows", () => {
  it("sends back every row not accepted, as before row verdicts; accepted rows stay final", async () => {
    const { job, reviewer, annotator } = await staffedJob({ rows: 3, state: "submitted" });
    expect((await verdict(reviewer, job.job_id, 0, { verdict: "accepted", reason: "Good." })).status).toBe(201);
    expect((await decideJob(reviewer, job.job_id, { status: "rejected", comments: "Look at rows 1 and 2 again." })).status).toBe(201);
    expect((await annotate(annotator, job.job_id, 0, { label: "changed" })).status).toBe(409);
    expect((await annotate(annotator, job.job_id, 1, { label: "changed" })).status).toBe(200);
    expect((await annotate(annotator, job.job_id, 2, { label: "changed" })).status).toBe(200);
    expect(await itemsWith(annotator, job.job_id, "rejected")).toEqual([]);
    expect((await setStatus(annotator, job.job_id, "submitted")).status).toBe(200);
  });
});
