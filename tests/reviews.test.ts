import { describe, expect, it } from "vitest";
import { createUser, registerClient } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import { annotate, eventActions, setStatus, staffedJob } from "./helpers/annotation.ts";

const reviewsPath = (jobId: number) => `/api/v1/annotation-jobs/${jobId}/reviews`;

describe("POST /annotation-jobs/{job_id}/reviews", () => {
  it("is 409 for a job that is not submitted, with a clear detail", async () => {
    const { job, reviewer, annotator } = await staffedJob({ rows: 2 });
    const early = await request("POST", reviewsPath(job.job_id), { token: reviewer.token, body: { status: "approved" } });
    expect(early.status).toBe(409);
    expect(early.roundTrips).toBe(1);
    expect(early.body.detail).toBe(
      `Job ${job.job_id} is not_started; only a submitted job can be reviewed (its annotator submits it once every row is annotated).`,
    );
    await annotate(annotator, job.job_id, 0, { label: "a" });
    const inProgress = await request("POST", reviewsPath(job.job_id), { token: reviewer.token, body: { status: "rejected", comments: "no" } });
    expect(inProgress.status).toBe(409);
    expect(inProgress.body.detail).toContain(`Job ${job.job_id} is in_progress;`);
  });

  it("rejects with comments: the job goes back to in_progress showing them, audited as review.create and annotation_job.reject", async () => {
    const { job, reviewer, annotator, project_id } = await staffedJob({ rows: 2, state: "submitted" });
    const withoutComments = await request("POST", reviewsPath(job.job_id), { token: reviewer.token, body: { status: "rejected" } });
    expect(withoutComments.status).toBe(422);
    expect(withoutComments.body.errors).toEqual([{ path: "body.comments", message: "a rejection needs comments saying what to fix" }]);

    const rejected = await request("POST", reviewsPath(job.job_id), { token: reviewer.token, body: { status: "rejected", comments: "Row 1 is wrong." } });
    expect(rejected.status).toBe(201);
    expect(rejected.roundTrips).toBe(1);
    expect(rejected.body).toEqual({
      review_id: expect.any(Number),
      job_id: job.job_id,
      reviewer_id: reviewer.user_id,
      status: "rejected",
      comments: "Row 1 is wrong.",
      created_at: expect.any(String),
    });
    const read = await request("GET", `/api/v1/annotation-jobs/${job.job_id}`, { token: annotator.token });
    expect(read.body).toMatchObject({
      status: "in_progress",
      submitted_at: null,
      latest_review: { review_id: rejected.body.review_id, status: "rejected", comments: "Row 1 is wrong.", reviewer_id: reviewer.user_id },
    });
    const events = await eventActions({ project_id });
    const review = events.filter((event) => event.request_id === events.at(-1)!.request_id);
    expect(review.map((event) => event.action).sort()).toEqual(["annotation_job.reject", "review.create"]);
    expect(review.find((event) => event.action === "annotation_job.reject")).toMatchObject({
      before: { status: "submitted" },
      after: { status: "in_progress", review_id: rejected.body.review_id },
    });

    expect((await annotate(annotator, job.job_id, 1, { label: "fixed" })).status).toBe(200);
    expect((await setStatus(annotator, job.job_id, "submitted")).status).toBe(200);
  });

  it("approves: the job is reviewed and final; a second review is 409", async () => {
    const { job, qc, reviewer } = await staffedJob({ rows: 1, state: "submitted" });
    const approved = await request("POST", reviewsPath(job.job_id), { token: qc.token, body: { status: "approved", comments: "Looks good." } });
    expect(approved.status).toBe(201);
    const read = await request("GET", `/api/v1/annotation-jobs/${job.job_id}`, { token: qc.token });
    expect(read.body).toMatchObject({ status: "reviewed", latest_review: { status: "approved" } });
    expect(read.body.reviewed_at).toEqual(expect.any(String));
    const again = await request("POST", reviewsPath(job.job_id), { token: reviewer.token, body: { status: "rejected", comments: "Too late" } });
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain(`Job ${job.job_id} is reviewed;`);
  });

  it("is for the job's reviewers and qc, its pm and admins: the annotator and clients get 403, outsiders 404", async () => {
    const { job, annotator, client, pm } = await staffedJob({ rows: 1, state: "submitted" });
    for (const account of [annotator, client]) {
      const refused = await request("POST", reviewsPath(job.job_id), { token: account.token, body: { status: "approved" } });
      expect(refused.status).toBe(403);
      expect(refused.roundTrips).toBe(1);
    }
    expect((await request("POST", reviewsPath(job.job_id), { token: annotator.token, body: { status: "approved" } })).body.detail).toBe(
      `Only an assigned reviewer or qc, the project's pm or a platform admin can review job ${job.job_id}.`,
    );
    for (const outsider of [await createUser("reviewer"), await createUser("pm"), await registerClient()]) {
      expect((await request("POST", reviewsPath(job.job_id), { token: outsider.token, body: { status: "approved" } })).status).toBe(404);
    }
    expect((await request("POST", reviewsPath(job.job_id), { token: pm.token, body: { status: "approved" } })).status).toBe(201);
  });
});

describe("GET /annotation-jobs/{job_id}/reviews", () => {
  it("lists the reviews oldest first, paged, in one round trip; client admins read them, members may not", async () => {
    const { job, reviewer, annotator, client } = await staffedJob({ rows: 1, state: "submitted" });
    await request("POST", reviewsPath(job.job_id), { token: reviewer.token, body: { status: "rejected", comments: "Again" } });
    await setStatus(annotator, job.job_id, "submitted");
    await request("POST", reviewsPath(job.job_id), { token: reviewer.token, body: { status: "approved" } });

    const first = await request("GET", `${reviewsPath(job.job_id)}?limit=1`, { token: annotator.token });
    expect(first.status).toBe(200);
    expect(first.roundTrips).toBe(1);
    expect(first.body.data.map((review: { status: string }) => review.status)).toEqual(["rejected"]);
    const rest = await request("GET", `${reviewsPath(job.job_id)}?limit=1&cursor=${first.body.next_cursor}`, { token: annotator.token });
    expect(rest.body.data.map((review: { status: string }) => review.status)).toEqual(["approved"]);

    expect((await request("GET", reviewsPath(job.job_id), { token: client.token })).status).toBe(200);
    const member = await createUser("client_member", client.org_id);
    expect((await request("GET", reviewsPath(job.job_id), { token: member.token })).status).toBe(403);
    expect((await request("GET", reviewsPath(job.job_id), { token: (await registerClient()).token })).status).toBe(404);
  });
});
