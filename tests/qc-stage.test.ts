/**
 * The QC stage (README "QC stage"): with a project's qc_sample_rate above 0, a reviewer's
 * approval leaves the job awaiting QC over a deterministic sample of its rows; a real qc
 * user accepts the sample and approves (reviewed), or rejects (back to the annotators,
 * only the rejected rows). qc_sample_rate = 0 keeps the old flow (tests/reviews.test.ts
 * runs unchanged).
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { annotate, eventActions, setStatus, staffedJob } from "./helpers/annotation.ts";
import { createUser, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

const jobPath = (jobId: number) => `/api/v1/annotation-jobs/${jobId}`;

function setRate(pm: Account, projectId: number, rate: number) {
  return request("PATCH", `/api/v1/projects/${projectId}`, { token: pm.token, body: { qc_sample_rate: rate } });
}

function decideJob(account: Account, jobId: number, body: Record<string, unknown>) {
  return request("POST", `${jobPath(jobId)}/reviews`, { token: account.token, body });
}

function verdict(account: Account, jobId: number, row: number, body: Record<string, unknown>) {
  return request("PUT", `${jobPath(jobId)}/items/${row}/review`, { token: account.token, body });
}

async function sampleOf(account: Account, jobId: number) {
  const read = await request("GET", `${jobPath(jobId)}/qc-sample`, { token: account.token });
  expect(read.status, JSON.stringify(read.body)).toBe(200);
  expect(read.roundTrips).toBe(1);
  return read.body as { job_id: number; status: string; sample_rate: number | null; rows: { row_index: number; checked: boolean; review: unknown }[] };
}

/** The contract's draw, computed here independently: the first ceil(rate × n) rows by md5("<job_id>:<row_index>"). */
function expectedSample(jobId: number, rowCount: number, rate: number): number[] {
  const ranked = Array.from({ length: rowCount }, (_, row) => ({ row, key: createHash("md5").update(`${jobId}:${row}`).digest("hex") }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.row - b.row));
  return ranked.slice(0, Math.ceil(rate * rowCount)).map((entry) => entry.row).sort((a, b) => a - b);
}

async function jobInQc(rows: number, rate: number) {
  const staffed = await staffedJob({ rows, state: "submitted" });
  const patched = await setRate(staffed.pm, staffed.project_id, rate);
  expect(patched.status, JSON.stringify(patched.body)).toBe(200);
  const approved = await decideJob(staffed.reviewer, staffed.job.job_id, { status: "approved", comments: "Reviewed." });
  expect(approved.status, JSON.stringify(approved.body)).toBe(201);
  return staffed;
}

describe("qc_sample_rate on the project", () => {
  it("is 0 by default, set by PATCH in one round trip, and bounded to 0–1", async () => {
    const { pm, project_id } = await staffedJob({ rows: 1 });
    const read = await request("GET", `/api/v1/projects/${project_id}`, { token: pm.token });
    expect(read.body.qc_sample_rate).toBe(0);
    const patched = await setRate(pm, project_id, 0.25);
    expect(patched.status).toBe(200);
    expect(patched.roundTrips).toBe(1);
    expect(patched.body.qc_sample_rate).toBe(0.25);
    for (const bad of [1.5, -0.1]) {
      const refused = await setRate(pm, project_id, bad);
      expect(refused.status).toBe(422);
      expect(refused.body.errors[0].path).toBe("body.qc_sample_rate");
    }
  });
});

describe("a reviewer's approval with qc_sample_rate above 0", () => {
  it("leaves the job awaiting QC over a deterministic sample: the same rows on every call, ceil(rate × rows) of them", async () => {
    const { job, qc, reviewer, pm, annotator, project_id } = await jobInQc(10, 0.3);
    const read = await request("GET", jobPath(job.job_id), { token: pm.token });
    expect(read.body).toMatchObject({ status: "awaiting_qc", reviewed_at: null });
    const move = (await eventActions({ project_id })).find((event) => event.action === "annotation_job.approve_to_qc");
    expect(move).toMatchObject({ before: { status: "submitted" }, after: { status: "awaiting_qc", qc_sample_rate: 0.3 } });

    const first = await sampleOf(qc, job.job_id);
    expect(first).toMatchObject({ job_id: job.job_id, status: "awaiting_qc", sample_rate: 0.3 });
    const rows = first.rows.map((row) => row.row_index);
    expect(rows).toEqual(expectedSample(job.job_id, 10, 0.3));
    expect(rows).toHaveLength(3);
    for (const account of [qc, reviewer, pm]) expect((await sampleOf(account, job.job_id)).rows.map((row) => row.row_index)).toEqual(rows);

    // The rate is frozen with the job: changing the project's does not move the sample.
    expect((await setRate(pm, project_id, 0.9)).status).toBe(200);
    expect((await sampleOf(qc, job.job_id)).rows.map((row) => row.row_index)).toEqual(rows);

    // While QC looks, nothing changes under it, and the annotator does not read the sample.
    const locked = await annotate(annotator, job.job_id, rows[0]!, { label: "late" });
    expect(locked.status).toBe(409);
    expect(locked.body.detail).toBe(`Job ${job.job_id} is awaiting QC; its annotations are locked until QC approves or rejects it.`);
    expect((await request("GET", `${jobPath(job.job_id)}/qc-sample`, { token: annotator.token })).status).toBe(403);
  });

  it("needs a qc user (or the pm, or an admin) to decide, after QC accepted every sampled row", async () => {
    const { job, qc, reviewer } = await jobInQc(6, 0.5);
    const rows = (await sampleOf(qc, job.job_id)).rows.map((row) => row.row_index);
    expect(rows).toHaveLength(3);

    // The reviewer has had their turn.
    const reviewerAgain = await decideJob(reviewer, job.job_id, { status: "approved" });
    expect(reviewerAgain.status).toBe(403);
    expect(reviewerAgain.body.detail).toBe(`Job ${job.job_id} awaits QC: only an assigned qc, the project's pm or a platform admin can review it now.`);
    expect((await verdict(reviewer, job.job_id, rows[0]!, { verdict: "accepted" })).status).toBe(403);

    const early = await decideJob(qc, job.job_id, { status: "approved" });
    expect(early.status).toBe(409);
    expect(early.roundTrips).toBe(1);
    expect(early.body.detail).toContain(`rows ${rows.join(", ")} of its sample have not been accepted by QC`);

    for (const row of rows) {
      const accepted = await verdict(qc, job.job_id, row, { verdict: "accepted" });
      expect(accepted.status).toBe(201);
      expect(accepted.body).toMatchObject({ stage: "qc", reviewer_id: qc.user_id });
    }
    expect((await sampleOf(qc, job.job_id)).rows.every((row) => row.checked)).toBe(true);
    const approved = await decideJob(qc, job.job_id, { status: "approved", comments: "Sample is clean." });
    expect(approved.status).toBe(201);
    expect(approved.roundTrips).toBe(1);
    const read = await request("GET", jobPath(job.job_id), { token: qc.token });
    expect(read.body).toMatchObject({ status: "reviewed", latest_review: { status: "approved", reviewer_id: qc.user_id } });
    expect(read.body.reviewed_at).toEqual(expect.any(String));
  });

  it("goes back to the annotator on QC's rejection, with only the rows QC rejected; the next approval samples again", async () => {
    const { job, qc, reviewer, annotator, project_id } = await jobInQc(4, 0.5);
    const [bad, good] = (await sampleOf(qc, job.job_id)).rows.map((row) => row.row_index) as [number, number];
    expect((await verdict(qc, job.job_id, good, { verdict: "accepted" })).status).toBe(201);
    expect((await verdict(qc, job.job_id, bad, { verdict: "rejected", reason: "QC: wrong label." })).status).toBe(201);
    expect((await decideJob(qc, job.job_id, { status: "approved" })).status).toBe(409);
    const rejected = await decideJob(qc, job.job_id, { status: "rejected", comments: "One sampled row is wrong." });
    expect(rejected.status).toBe(201);
    const move = (await eventActions({ project_id })).find((event) => event.action === "annotation_job.qc_reject");
    expect(move).toMatchObject({ before: { status: "awaiting_qc" }, after: { status: "in_progress", returned_rows: [bad] } });
    expect(await sampleOf(qc, job.job_id)).toMatchObject({ status: "in_progress", sample_rate: null, rows: [] });

    const items = await request("GET", `${jobPath(job.job_id)}/items?review=rejected`, { token: annotator.token });
    expect(items.body.data).toEqual([
      expect.objectContaining({ row_index: bad, review: expect.objectContaining({ verdict: "rejected", stage: "qc", reason: "QC: wrong label.", returned: true }) }),
    ]);
    expect((await annotate(annotator, job.job_id, good, { label: "changed" })).status).toBe(409);
    expect((await annotate(annotator, job.job_id, bad, { label: "fixed" })).status).toBe(200);
    expect((await setStatus(annotator, job.job_id, "submitted")).status).toBe(200);
    expect((await verdict(reviewer, job.job_id, bad, { verdict: "accepted" })).body).toMatchObject({ stage: "review", rejections: 1 });
    expect((await decideJob(reviewer, job.job_id, { status: "approved" })).status).toBe(201);
    expect(await sampleOf(qc, job.job_id)).toMatchObject({ status: "awaiting_qc", sample_rate: 0.5 });
  });

  it("the pm may act as QC; other qc users of the platform do not see the job", async () => {
    const { job, pm, qc } = await jobInQc(2, 1);
    const rows = (await sampleOf(pm, job.job_id)).rows.map((row) => row.row_index);
    expect(rows).toEqual([0, 1]);
    const outsider = await createUser("qc");
    expect((await request("GET", `${jobPath(job.job_id)}/qc-sample`, { token: outsider.token })).status).toBe(404);
    expect((await decideJob(outsider, job.job_id, { status: "approved" })).status).toBe(404);
    for (const row of rows) expect((await verdict(pm, job.job_id, row, { verdict: "accepted" })).body.stage).toBe("qc");
    expect((await decideJob(pm, job.job_id, { status: "approved" })).status).toBe(201);
    expect((await request("GET", jobPath(job.job_id), { token: qc.token })).body.status).toBe("reviewed");
  });
});

describe("qc_sample_rate = 0", () => {
  it("keeps a reviewer's approval final, as before the QC stage", async () => {
    const { job, reviewer, project_id } = await staffedJob({ rows: 2, state: "submitted" });
    expect((await decideJob(reviewer, job.job_id, { status: "approved" })).status).toBe(201);
    expect((await request("GET", jobPath(job.job_id), { token: reviewer.token })).body.status).toBe("reviewed");
    expect((await eventActions({ project_id })).map((event) => event.action)).toContain("annotation_job.approve");
    expect(await sampleOf(reviewer, job.job_id)).toMatchObject({ sample_rate: null, rows: [] });
  });
});
