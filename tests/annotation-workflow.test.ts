/**
 * The acceptance story, through the API end to end: a client uploads a CSV (presigned PUT
 * to storage, complete), the parse consumer turns it into a table, the pm cuts jobs with
 * split_size and staffs one, the annotator annotates every row and submits, the reviewer
 * rejects with a comment, the annotator fixes a row and resubmits, the reviewer approves,
 * and the client reads the approved results. The audit log tells the same story in order.
 */
import { describe, expect, it } from "vitest";
import { createUser, registerClient, unique } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import { encoder, uploadFile } from "./helpers/uploads.ts";

const CSV = ["review,stars", "Great product,5", "Broke after a day,1", "Does the job,3", "Terrible support,1", "Would buy again,5", "Okay I guess,3"].join("\n");

/**
 * The parse that `complete` queued, delivered by the real queue to the Worker's consumer:
 * awaited here, and the only parse of the version (the test sends no message of its own).
 */
async function waitForParse(token: string, versionId: number) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const version = await request("GET", `/api/v1/file-versions/${versionId}`, { token });
    if (version.body.parse_status === "succeeded" || version.body.parse_status === "failed") return version.body;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`version ${versionId} did not finish parsing`);
}

/** The version's one table, through `GET /file-versions/{version_id}/tables`. */
async function tableOf(token: string, versionId: number): Promise<{ table_id: number; row_count: number }> {
  const tables = await request("GET", `/api/v1/file-versions/${versionId}/tables`, { token });
  expect(tables.status).toBe(200);
  expect(tables.body.data).toHaveLength(1);
  return tables.body.data[0];
}

type Event = { event_id: number; action: string; request_id: string; entity_type: string };

/** The project's events oldest first, as its pm reads them from GET /events. */
async function projectEvents(token: string, projectId: number): Promise<Event[]> {
  const response = await request("GET", `/api/v1/events?project_id=${projectId}&limit=200`, { token });
  expect(response.status).toBe(200);
  expect(response.body.next_cursor).toBeNull();
  return [...(response.body.data as Event[])].reverse();
}

/** Events grouped by the request that made them, each group's actions sorted (one statement writes them together). */
function steps(events: Event[]): string[][] {
  const groups: { request_id: string; actions: string[] }[] = [];
  for (const event of events) {
    const last = groups.at(-1);
    if (last && last.request_id === event.request_id) last.actions.push(event.action);
    else groups.push({ request_id: event.request_id, actions: [event.action] });
  }
  return groups.map((group) => group.actions.sort());
}

describe("annotation workflow, from upload to reviewed", () => {
  it("tells the whole story through the API and in the audit log", async () => {
    const [client, pm, admin, annotator, reviewer] = await Promise.all([
      registerClient(),
      createUser("pm"),
      createUser("admin"),
      createUser("annotator"),
      createUser("reviewer"),
    ]);

    // The client's project, run by our pm.
    const created = await request("POST", "/api/v1/projects", { token: client.token, body: { name: unique("Product reviews") } });
    expect(created.status).toBe(201);
    const projectId: number = created.body.project_id;
    expect((await request("PATCH", `/api/v1/projects/${projectId}`, { token: admin.token, body: { our_pm_id: pm.user_id } })).status).toBe(200);
    expect((await request("PATCH", `/api/v1/projects/${projectId}`, { token: client.token, body: { status: "ready_for_annotation" } })).status).toBe(200);

    // The client uploads the CSV; it parses.
    const { version } = await uploadFile(client.token, projectId, encoder.encode(CSV), { filename: "reviews.csv" });
    expect(await waitForParse(client.token, version.version_id)).toMatchObject({ parse_status: "succeeded" });
    const table = await tableOf(client.token, version.version_id);
    expect(table.row_count).toBe(6);

    // The pm cuts the table into two jobs and staffs the first.
    const jobs = await request("POST", `/api/v1/projects/${projectId}/annotation-jobs`, {
      token: pm.token,
      body: { name: "Reviews", table_id: table.table_id, split_size: 3, priority: "high", instructions: "Sentiment: positive, negative or neutral." },
    });
    expect(jobs.status).toBe(201);
    expect(jobs.body.data.map((job: { name: string; row_start: number; row_end: number }) => [job.name, job.row_start, job.row_end])).toEqual([
      ["Reviews (1/2)", 0, 2],
      ["Reviews (2/2)", 3, 5],
    ]);
    const jobId: number = jobs.body.data[0].job_id;
    for (const [user, role] of [[annotator, "annotator"], [reviewer, "reviewer"]] as const) {
      const assigned = await request("POST", `/api/v1/annotation-jobs/${jobId}/assignments`, { token: pm.token, body: { user_id: user.user_id, role } });
      expect(assigned.status).toBe(201);
    }

    // The annotator works through the items and submits.
    const items = await request("GET", `/api/v1/annotation-jobs/${jobId}/items`, { token: annotator.token });
    expect(items.body.data.map((item: { data: { review: string } }) => item.data.review)).toEqual(["Great product", "Broke after a day", "Does the job"]);
    const labels = ["positive", "positive", "neutral"];
    for (const item of items.body.data as { row_index: number }[]) {
      const saved = await request("PUT", `/api/v1/annotation-jobs/${jobId}/items/${item.row_index}/annotation`, {
        token: annotator.token,
        body: { data: { sentiment: labels[item.row_index] } },
      });
      expect(saved.status).toBe(201);
    }
    const submit = () => request("PATCH", `/api/v1/annotation-jobs/${jobId}`, { token: annotator.token, body: { status: "submitted" } });
    expect((await submit()).body).toMatchObject({ status: "submitted", progress: { annotated: 3, total: 3 } });

    // The reviewer rejects with a comment; the annotator fixes the row and resubmits.
    const rejected = await request("POST", `/api/v1/annotation-jobs/${jobId}/reviews`, {
      token: reviewer.token,
      body: { status: "rejected", comments: "Row 1 (\"Broke after a day\") is negative." },
    });
    expect(rejected.status).toBe(201);
    const back = await request("GET", `/api/v1/annotation-jobs/${jobId}`, { token: annotator.token });
    expect(back.body).toMatchObject({ status: "in_progress", latest_review: { status: "rejected", comments: "Row 1 (\"Broke after a day\") is negative." } });
    const current = await request("GET", `/api/v1/annotation-jobs/${jobId}/items/1/annotation`, { token: annotator.token });
    const fixed = await request("PUT", `/api/v1/annotation-jobs/${jobId}/items/1/annotation`, {
      token: annotator.token,
      headers: { "if-match": current.headers.get("etag")! },
      body: { data: { sentiment: "negative" } },
    });
    expect(fixed.status).toBe(200);
    expect(fixed.body.version).toBe(2);
    expect((await submit()).status).toBe(200);

    // The reviewer approves; the client reads the results and the progress.
    const approved = await request("POST", `/api/v1/annotation-jobs/${jobId}/reviews`, { token: reviewer.token, body: { status: "approved" } });
    expect(approved.status).toBe(201);
    const results = await request("GET", `/api/v1/annotation-jobs/${jobId}/items`, { token: client.token });
    expect(results.status).toBe(200);
    expect(results.body.data.map((item: { annotation: { data: { sentiment: string } } }) => item.annotation.data.sentiment)).toEqual([
      "positive",
      "negative",
      "neutral",
    ]);
    const project = await request("GET", `/api/v1/projects/${projectId}`, { token: client.token });
    expect(project.body).toMatchObject({
      status: "in_progress",
      job_progress: { jobs: { total: 2, not_started: 1, in_progress: 0, submitted: 0, awaiting_qc: 0, reviewed: 1 }, annotated: 3, total: 6 },
    });
    const history = await request("GET", `/api/v1/annotation-jobs/${jobId}/items/1/annotation/history`, { token: client.token });
    expect(history.body.data.map((revision: { data: { sentiment: string } }) => revision.data.sentiment)).toEqual(["positive", "negative"]);

    // The audit log: the upload and parse first, then the annotation story, step by step.
    const events = await projectEvents(pm.token, projectId);
    const firstJobEvent = events.findIndex((event) => event.action === "annotation_job.create");
    expect(events[0]!.action).toBe("project.create");
    const beforeJobs = events.slice(0, firstJobEvent).map((event) => event.action);
    expect(beforeJobs).toEqual(expect.arrayContaining(["file.create", "file_version.create", "file_version.complete"]));
    expect(steps(events.slice(firstJobEvent))).toEqual([
      ["annotation_job.create", "annotation_job.create"],
      ["assignment.create"],
      ["assignment.create"],
      ["annotation_job.start", "annotation_revision.create", "project.update"],
      ["annotation_revision.create"],
      ["annotation_revision.create"],
      ["annotation_job.submit", "job_submission.create"],
      ["annotation_job.reject", "review.create"],
      ["annotation_revision.create"],
      ["annotation_job.submit", "job_submission.create"],
      ["annotation_job.approve", "review.create"],
    ]);
  });
});
