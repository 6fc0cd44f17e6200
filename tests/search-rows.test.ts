/**
 * Full-text search over parsed rows (README "Search"): the vectors the parse stores in
 * the file's language, `q` on a table's rows and on a job's items, ranked, paged by
 * (rank, row_index), in one round trip, behind the same access as the unfiltered lists.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { annotate, annotationProject, assign, createJob, type AnnotationProject } from "./helpers/annotation.ts";
import { sql, testDb } from "./helpers/db.ts";
import { createUser, registerClient, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import { insertFile } from "./helpers/projects.ts";
import { parsedCsv } from "./helpers/quality.ts";

const db = testDb();

const CSV = [
  "id,text,note",
  "1,The parcel arrived late,",
  "2,Nothing to report,les chevaux",
  "3,Arriving tomorrow; it arrived once and arrives again,refund",
  "4,Refund requested for the late parcel,",
  "5,le cheval blanc,arrivées",
].join("\n");

async function parsedIn(project: { project_id: number; org_id: number }, language: string | null) {
  const fileId = await insertFile(project);
  await db.execute(sql`update file set language = ${language}::language where file_id = ${fileId}`);
  return (await parsedCsv(project, `${CSV}\n`, { fileId })).table_id;
}

async function rowsOf(account: Account, tableId: number, query: string) {
  const response = await request("GET", `/api/v1/file-tables/${tableId}/rows?${query}`, { token: account.token });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.roundTrips).toBe(1);
  return response.body as { data: { row_index: number; data: Record<string, unknown> }[]; next_cursor: string | null };
}

const indexes = (page: { data: { row_index: number }[] }) => page.data.map((row) => row.row_index);

let world: AnnotationProject;
let english: number;

beforeAll(async () => {
  world = await annotationProject({ rows: 1 });
  english = await parsedIn(world, null);
});

describe("GET /file-tables/{table_id}/rows?q=", () => {
  it("finds rows by stemmed words of their string cells, best rank first, in one round trip", async () => {
    // "arrive" matches arrived, arriving, arrives (English stems); row 2 says it three times.
    expect(indexes(await rowsOf(world.client, english, "q=arrive"))).toEqual([2, 0]);
    expect(indexes(await rowsOf(world.client, english, "q=refund"))).toEqual([2, 3]);
    expect(indexes(await rowsOf(world.client, english, `q=${encodeURIComponent('"late parcel"')}`))).toEqual([3]);
    expect(indexes(await rowsOf(world.client, english, `q=${encodeURIComponent("refund -parcel")}`))).toEqual([2]);
    expect(indexes(await rowsOf(world.client, english, `q=${encodeURIComponent("parcel or cheval")}`))).toEqual([0, 3, 4]);
    // Column names and numbers are not words of the row; only stop words is an empty query.
    expect(indexes(await rowsOf(world.client, english, "q=note"))).toEqual([]);
    expect(indexes(await rowsOf(world.client, english, "q=the"))).toEqual([]);
    // Without q the list is unchanged.
    expect(indexes(await rowsOf(world.client, english, "limit=200"))).toEqual([0, 1, 2, 3, 4]);
  });

  it("pages a ranked list by (rank, row_index): every match once, in order", async () => {
    const whole = indexes(await rowsOf(world.client, english, `q=${encodeURIComponent("arrive or refund or parcel")}`));
    expect(whole).toHaveLength(3);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await rowsOf(world.client, english, `q=${encodeURIComponent("arrive or refund or parcel")}&limit=1${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...indexes(page));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(whole);
  });

  it("searches in the file's language when it was parsed (English when unset, simple for Chinese)", async () => {
    const french = await parsedIn(world, "fr");
    const chinese = await parsedIn(world, "zh");
    const configs = await db.execute(sql`select table_id, search_config from file_table where table_id in (${english}, ${french}, ${chinese}) order by table_id`);
    expect(configs.rows.map((row) => (row as { search_config: string }).search_config)).toEqual(["english", "french", "simple"]);
    // French stems chevaux to cheval; English does not.
    expect(indexes(await rowsOf(world.client, french, "q=cheval"))).toEqual([1, 4]);
    expect(indexes(await rowsOf(world.client, english, "q=cheval"))).toEqual([4]);
    expect(indexes(await rowsOf(world.client, french, `q=${encodeURIComponent("arrivée")}`))).toContain(4);
    // simple: no stemming, no stop words.
    expect(indexes(await rowsOf(world.client, chinese, "q=arrived"))).toEqual([0, 2]);
    expect(indexes(await rowsOf(world.client, chinese, "q=the"))).toEqual([0, 3]);
  });

  it("is 404 for a table the caller may not see, and 422 for a bad q or cursor", async () => {
    const stranger = await registerClient();
    const hidden = await request("GET", `/api/v1/file-tables/${english}/rows?q=refund`, { token: stranger.token });
    expect(hidden.status).toBe(404);
    const unranked = await rowsOf(world.client, english, "limit=1");
    for (const query of ["q=", `q=${"x".repeat(201)}`, "q=%00", "q=refund&cursor=nonsense", `q=refund&cursor=${unranked.next_cursor}`]) {
      const response = await request("GET", `/api/v1/file-tables/${english}/rows?${query}`, { token: world.client.token });
      expect(response.status, query).toBe(422);
      expect(response.headers.get("content-type")).toContain("application/problem+json");
    }
  });
});

describe("GET /annotation-jobs/{job_id}/items?q=", () => {
  it("finds the job's rows by rank, with the other filters, paged, in one round trip; outsiders 404", async () => {
    const job = await createJob(world.pm, world.project_id, { table_id: english, row_start: 0, row_end: 3 });
    const annotator = await createUser("annotator");
    await assign(world.pm, job.job_id, annotator, "annotator");
    expect((await annotate(annotator, job.job_id, 3, { label: "x" })).status).toBe(201);
    const items = async (account: Account, query: string) => {
      const response = await request("GET", `/api/v1/annotation-jobs/${job.job_id}/items?${query}`, { token: account.token });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.roundTrips).toBe(1);
      return response.body as { data: { row_index: number }[]; next_cursor: string | null };
    };
    // Row 4 (le cheval blanc) is outside the job's range.
    expect(indexes(await items(world.pm, `q=${encodeURIComponent("refund or cheval")}`))).toEqual([2, 3]);
    expect(indexes(await items(annotator, "q=refund&annotated=true"))).toEqual([3]);
    expect(indexes(await items(annotator, "q=refund&status=unanswered"))).toEqual([2]);
    const first = await items(world.pm, "q=arrive&limit=1");
    expect(indexes(first)).toEqual([2]);
    expect(indexes(await items(world.pm, `q=arrive&limit=1&cursor=${first.next_cursor}`))).toEqual([0]);
    const outsider = await createUser("annotator");
    expect((await request("GET", `/api/v1/annotation-jobs/${job.job_id}/items?q=refund`, { token: outsider.token })).status).toBe(404);
    expect((await request("GET", `/api/v1/annotation-jobs/${job.job_id}/items?q=`, { token: world.pm.token })).status).toBe(422);
  });
});
