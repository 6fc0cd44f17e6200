/**
 * `GET /search` (README "Search"): projects, files, jobs and comments matching `q`,
 * each only for the callers whose own lists show it, ranked together, paged by keyset,
 * in one round trip.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { annotationProject, assign, createJob, type AnnotationProject } from "./helpers/annotation.ts";
import { sql, testDb } from "./helpers/db.ts";
import { createUser, registerClient, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import { insertFile } from "./helpers/projects.ts";

const db = testDb();

type Result = { type: string; id: number; project_id: number; job_id: number | null; title: string; rank: number };

/** A word no other test writes: letters only, so the text parser keeps it whole. */
const word = () => `qz${Array.from({ length: 10 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join("")}`;

async function search(account: Account, query: string) {
  const response = await request("GET", `/api/v1/search?${query}`, { token: account.token });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.roundTrips).toBe(1);
  return response.body as { data: Result[]; next_cursor: string | null };
}

const kinds = (page: { data: Result[] }) => page.data.map((result) => result.type).sort();

let world: AnnotationProject & { token: string; annotator: Account; jobId: number; fileId: number; commentIds: number[] };

beforeAll(async () => {
  const token = word();
  const project = await annotationProject({ rows: 2 });
  await db.execute(sql`update project set description = ${`All about ${token}`} where project_id = ${project.project_id}`);
  const fileId = await insertFile(project, { filename: `${token} survey.csv` });
  const job = await createJob(project.pm, project.project_id, { table_id: project.table_id, name: `Label ${token}`, instructions: "Be careful" });
  const annotator = await createUser("annotator");
  await assign(project.pm, job.job_id, annotator, "annotator");
  const commentIds: number[] = [];
  for (const body of [`${token} ${token} ${token}, see row 2`, `Is ${token} done?`]) {
    const created = await request("POST", `/api/v1/annotation-jobs/${job.job_id}/comments`, { token: project.pm.token, body: { body } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    commentIds.push(created.body.comment_id);
  }
  world = { ...project, token, annotator, jobId: job.job_id, fileId, commentIds };
});

describe("GET /search", () => {
  it("finds projects, files, jobs and comments, best first, in one round trip", async () => {
    const found = await search(world.client, `q=${world.token}`);
    expect(kinds(found)).toEqual(["comment", "comment", "file", "job", "project"]);
    // The comment that says it three times ranks first.
    expect(found.data[0]).toMatchObject({ type: "comment", id: world.commentIds[0], job_id: world.jobId, project_id: world.project_id });
    const ranks = found.data.map((result) => result.rank);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
    expect(found.data.find((result) => result.type === "file")).toMatchObject({ id: world.fileId, title: `${world.token} survey.csv` });
    expect(kinds(await search(world.client, `q=${world.token}&type=comment`))).toEqual(["comment", "comment"]);
    // English stemming, web-search syntax.
    expect(kinds(await search(world.client, `q=${encodeURIComponent(`${world.token} careful`)}`))).toEqual(["job"]);
    expect(kinds(await search(world.client, `q=${encodeURIComponent(`${world.token} -label`)}`))).toEqual(["comment", "comment", "file", "project"]);
  });

  it("shows each caller only what their lists show", async () => {
    const [stranger, bystander] = await Promise.all([registerClient(), createUser("annotator")]);
    expect(kinds(await search(world.pm, `q=${world.token}`))).toEqual(["comment", "comment", "file", "job", "project"]);
    // Staff reach jobs through assignments; annotators read no projects or files.
    expect(kinds(await search(world.annotator, `q=${world.token}`))).toEqual(["comment", "comment", "job"]);
    expect(kinds(await search(bystander, `q=${world.token}`))).toEqual([]);
    expect(kinds(await search(stranger, `q=${world.token}`))).toEqual([]);
  });

  it("leaves out what was deleted", async () => {
    const token = word();
    const project = await annotationProject({ rows: 1 });
    await db.execute(sql`update project set name = ${`Gone ${token}`}, deleted_at = now() where project_id = ${project.project_id}`);
    const fileId = await insertFile(world, { filename: `${token}.txt` });
    await db.execute(sql`update file set deleted_at = now() where file_id = ${fileId}`);
    expect(kinds(await search(world.pm, `q=${token}`))).toEqual([]);
    const admin = await createUser("admin");
    expect(kinds(await search(admin, `q=${token}`))).toEqual([]);
  });

  it("pages by keyset: every result once, in rank order", async () => {
    const whole = (await search(world.client, `q=${world.token}`)).data.map((result) => `${result.type}:${result.id}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await search(world.client, `q=${world.token}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.data.map((result) => `${result.type}:${result.id}`));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(whole);
  });

  it("answers bad input with a 422", async () => {
    const rows = await request("GET", `/api/v1/file-tables/${world.table_id}/rows?limit=1`, { token: world.client.token });
    for (const query of ["", "q=", `q=${"x".repeat(201)}`, "q=a&type=user", "q=a&limit=0", "q=a&cursor=nope", `q=a&cursor=${rows.body.next_cursor}`]) {
      const response = await request("GET", `/api/v1/search?${query}`, { token: world.client.token });
      expect(response.status, query).toBe(422);
      expect(response.headers.get("content-type")).toContain("application/problem+json");
    }
  });
});
