import { describe, expect, it } from "vitest";
import { createUser, registerClient } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import { createJob, eventActions, staffedJob } from "./helpers/annotation.ts";

const commentsPath = (jobId: number) => `/api/v1/annotation-jobs/${jobId}/comments`;

describe("POST /annotation-jobs/{job_id}/comments", () => {
  it("starts threads and replies to them, in one round trip each, audited", async () => {
    const { job, annotator, pm, project_id } = await staffedJob();
    const root = await request("POST", commentsPath(job.job_id), { token: annotator.token, body: { body: "Is sarcasm negative?" } });
    expect(root.status).toBe(201);
    expect(root.roundTrips).toBe(1);
    expect(root.body).toEqual({
      comment_id: expect.any(Number),
      job_id: job.job_id,
      parent_comment_id: null,
      author_id: annotator.user_id,
      body: "Is sarcasm negative?",
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const reply = await request("POST", commentsPath(job.job_id), { token: pm.token, body: { body: "Yes.", parent_comment_id: root.body.comment_id } });
    expect(reply.status).toBe(201);
    expect(reply.body.parent_comment_id).toBe(root.body.comment_id);
    const events = await eventActions({ project_id, entity_type: "comment" });
    expect(events.map((event) => [event.action, event.entity_id])).toEqual([
      ["comment.create", root.body.comment_id],
      ["comment.create", reply.body.comment_id],
    ]);
  });

  it("refuses a parent from another job (422), and comments from clients (403) and outsiders (404)", async () => {
    const { job, annotator, pm, project_id, table_id, client } = await staffedJob();
    const otherJob = await createJob(pm, project_id, { table_id });
    const elsewhere = await request("POST", commentsPath(otherJob.job_id), { token: pm.token, body: { body: "Other thread" } });
    const crossed = await request("POST", commentsPath(job.job_id), {
      token: annotator.token,
      body: { body: "Reply", parent_comment_id: elsewhere.body.comment_id },
    });
    expect(crossed.status).toBe(422);
    expect(crossed.body.errors).toEqual([{ path: "body.parent_comment_id", message: `must be a comment of job ${job.job_id}` }]);

    const fromClient = await request("POST", commentsPath(job.job_id), { token: client.token, body: { body: "Hello" } });
    expect(fromClient.status).toBe(403);
    expect(fromClient.roundTrips).toBe(1);
    expect((await request("POST", commentsPath(job.job_id), { token: (await createUser("annotator")).token, body: { body: "Hi" } })).status).toBe(404);
    expect((await request("POST", commentsPath(job.job_id), { token: annotator.token, body: { body: "   " } })).status).toBe(422);
  });
});

describe("GET /annotation-jobs/{job_id}/comments", () => {
  it("lists comments oldest first, paged, with direct replies by parent, to everyone who sees the job", async () => {
    const { job, annotator, reviewer, pm, client } = await staffedJob();
    const root = await request("POST", commentsPath(job.job_id), { token: annotator.token, body: { body: "Question" } });
    await request("POST", commentsPath(job.job_id), { token: reviewer.token, body: { body: "Another thread" } });
    await request("POST", commentsPath(job.job_id), { token: pm.token, body: { body: "Answer", parent_comment_id: root.body.comment_id } });

    for (const account of [annotator, reviewer, pm, client, await createUser("client_member", client.org_id)]) {
      const list = await request("GET", commentsPath(job.job_id), { token: account.token });
      expect(list.status).toBe(200);
      expect(list.roundTrips).toBe(1);
      expect(list.body.data.map((comment: { body: string }) => comment.body)).toEqual(["Question", "Another thread", "Answer"]);
    }
    const replies = await request("GET", `${commentsPath(job.job_id)}?parent_comment_id=${root.body.comment_id}`, { token: client.token });
    expect(replies.body.data.map((comment: { body: string }) => comment.body)).toEqual(["Answer"]);
    const first = await request("GET", `${commentsPath(job.job_id)}?limit=2`, { token: pm.token });
    const rest = await request("GET", `${commentsPath(job.job_id)}?limit=2&cursor=${first.body.next_cursor}`, { token: pm.token });
    expect(rest.body).toEqual({ data: [expect.objectContaining({ body: "Answer" })], next_cursor: null });
    expect((await request("GET", commentsPath(job.job_id), { token: (await registerClient()).token })).status).toBe(404);
  });
});
