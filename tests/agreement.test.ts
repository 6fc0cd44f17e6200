/**
 * Agreement figures (README "Agreement"): the published worked examples and seeded
 * random reliability data, each compared to 1e-9 with the figures an independent
 * implementation computed (scripts/agreement-reference.py → tests/fixtures/agreement/
 * reference.json: numpy's coincidence matrix for α, statsmodels for Fleiss' κ,
 * scikit-learn for Cohen's κ). Responses are written by a factory (one statement per
 * case); the figures are read through the API, in one round trip every time.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { annotationProject, assign, createJob, type AnnotationProject } from "./helpers/annotation.ts";
import { sql, testDb } from "./helpers/db.ts";
import { createUser, registerClient, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import reference from "./fixtures/agreement/reference.json";

const db = testDb();

type Figures = { percent_agreement: number | null; krippendorff_alpha: number | null; fleiss_kappa: number | null; cohen_kappa: number | null };
type QuestionEntry = Figures & { name: string; type: string; option: string | null; raters: number; rows: number };
type PairEntry = { question: string; option: string | null; annotator_a: number; annotator_b: number; rows: number; cohen_kappa: number | null };
type Case = {
  name: string;
  rows: number;
  annotators: number;
  questions: { name: string; type: string }[];
  responses: { row: number; annotator: number; data: Record<string, unknown> }[];
  expected: { questions: QuestionEntry[]; pairs: PairEntry[] };
  published: unknown;
};

const CASES = reference.cases as Case[];
const caseNamed = (name: string) => CASES.find((candidate) => candidate.name === name)!;
const FIGURES = ["percent_agreement", "krippendorff_alpha", "fleiss_kappa", "cohen_kappa"] as const;

/** Equal, or both null; numbers within 1e-9. */
function expectFigure(actual: number | null, expected: number | null, label: string) {
  if (expected === null) {
    expect(actual, label).toBeNull();
  } else {
    expect(actual, label).not.toBeNull();
    expect(Math.abs(actual! - expected), `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(1e-9);
  }
}

function expectMatchesReference(body: { questions: QuestionEntry[]; pairs: PairEntry[] }, seeded: Case, annotators: Account[]) {
  const id = (index: number) => annotators[index]!.user_id;
  expect(body.questions.map((q) => [q.name, q.option, q.type, q.raters, q.rows])).toEqual(
    seeded.expected.questions.map((q) => [q.name, q.option, q.type, q.raters, q.rows]),
  );
  seeded.expected.questions.forEach((expected, i) => {
    for (const figure of FIGURES) expectFigure(body.questions[i]![figure], expected[figure], `${seeded.name} ${expected.name}:${expected.option} ${figure}`);
  });
  expect(body.pairs.map((p) => [p.question, p.option, p.annotator_a, p.annotator_b, p.rows])).toEqual(
    seeded.expected.pairs.map((p) => [p.question, p.option, id(p.annotator_a), id(p.annotator_b), p.rows]),
  );
  seeded.expected.pairs.forEach((expected, i) => {
    expectFigure(body.pairs[i]!.cohen_kappa, expected.cohen_kappa, `${seeded.name} pair ${i} cohen_kappa`);
  });
}

type Seeded = AnnotationProject & { annotators: Account[]; jobs: number[] };

/** Writes the case's responses as its annotators' (fresh users, created in order so that ids follow the fixture's indices). */
async function insertResponses(jobId: number, annotators: Account[], responses: Case["responses"]) {
  const ids = annotators.map((annotator) => annotator.user_id);
  // own_final/own_agreed (the stored consensus of one response) play no part in agreement.
  await db.execute(sql`insert into annotation (job_id, row_index, annotator_id, data, own_final, own_agreed, updated_by)
    select ${jobId}::integer, r.row, (${`{${ids.join(",")}}`}::integer[])[r.annotator + 1], r.data, '{}'::jsonb, false, (${`{${ids.join(",")}}`}::integer[])[r.annotator + 1]
    from jsonb_to_recordset(${JSON.stringify(responses)}::jsonb) as r("row" integer, annotator integer, data jsonb)`);
}

/** A project with the case's label schema and table, its rows cut into `splits` jobs, and every response written. */
async function seedCase(seeded: Case, splits = 1): Promise<Seeded> {
  const project = await annotationProject({ rows: seeded.rows });
  const schema = await request("PUT", `/api/v1/projects/${project.project_id}/label-schema`, { token: project.pm.token, body: { questions: seeded.questions } });
  expect(schema.status, JSON.stringify(schema.body)).toBe(200);
  const annotators: Account[] = [];
  for (let i = 0; i < seeded.annotators; i++) annotators.push(await createUser("annotator"));
  const size = Math.ceil(seeded.rows / splits);
  const jobs: number[] = [];
  for (let start = 0; start < seeded.rows; start += size) {
    const end = Math.min(seeded.rows, start + size) - 1;
    const job = await createJob(project.pm, project.project_id, { table_id: project.table_id, row_start: start, row_end: end });
    await insertResponses(job.job_id, annotators, seeded.responses.filter((response) => response.row >= start && response.row <= end));
    jobs.push(job.job_id);
  }
  return { ...project, annotators, jobs };
}

const agreementPath = (projectId: number, query = "") => `/api/v1/projects/${projectId}/agreement${query}`;

async function readAgreement(account: Account, projectId: number, query = "") {
  const response = await request("GET", agreementPath(projectId, query), { token: account.token });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.roundTrips).toBe(1);
  return response.body as { project_id: number; job_id: number | null; questions: QuestionEntry[]; pairs: PairEntry[] };
}

describe("published worked examples", () => {
  it("Krippendorff (2011), 4 coders × 12 units with missing values: nominal α 0.743, ordinal 0.815, interval 0.849", async () => {
    const seeded = caseNamed("krippendorff-2011");
    const project = await seedCase(seeded);
    const body = await readAgreement(project.pm, project.project_id);
    const alpha = (name: string) => body.questions.find((q) => q.name === name)!.krippendorff_alpha!;
    expect(alpha("code_label").toFixed(3)).toBe("0.743");
    expect(alpha("code_rating").toFixed(3)).toBe("0.815");
    expect(alpha("code_number").toFixed(3)).toBe("0.849");
    // Unit 12 has one value: it counts nowhere. Four coders: no Cohen's κ; rows of 2, 3 and 4 values: no Fleiss' κ.
    expect(body.questions[0]).toMatchObject({ raters: 4, rows: 11, fleiss_kappa: null, cohen_kappa: null });
    expectMatchesReference(body, seeded, project.annotators);
  });

  it("Fleiss (1971), 30 patients × 6 psychiatrists: κ 0.430; Wikipedia's 10 subjects × 14 raters: κ 0.210", async () => {
    for (const [name, published] of [["fleiss-1971", "0.430"], ["wikipedia-fleiss", "0.210"]] as const) {
      const seeded = caseNamed(name);
      const project = await seedCase(seeded);
      const body = await readAgreement(project.pm, project.project_id);
      expect(body.questions[0]!.fleiss_kappa!.toFixed(3)).toBe(published);
      expectMatchesReference(body, seeded, project.annotators);
    }
  });

  it("Cohen (Wikipedia's 50 proposals, two readers): p_o 0.7, κ 0.4, overall and for the pair", async () => {
    const seeded = caseNamed("wikipedia-cohen");
    const project = await seedCase(seeded);
    const body = await readAgreement(project.pm, project.project_id);
    expect(body.questions[0]).toMatchObject({ raters: 2, rows: 50 });
    expectFigure(body.questions[0]!.percent_agreement, 0.7, "p_o");
    expectFigure(body.questions[0]!.cohen_kappa, 0.4, "κ");
    expect(body.pairs).toHaveLength(1);
    expectFigure(body.pairs[0]!.cohen_kappa, 0.4, "pair κ");
    expectMatchesReference(body, seeded, project.annotators);
  });
});

describe("seeded random reliability data against the reference implementation (1e-9)", () => {
  for (const name of ["random-three-complete", "random-missing", "random-two"]) {
    it(`${name}: every question type, multi_label per option, every pair`, async () => {
      const seeded = caseNamed(name);
      const project = await seedCase(seeded);
      const body = await readAgreement(project.pm, project.project_id);
      expect(body).toMatchObject({ project_id: project.project_id, job_id: null });
      expectMatchesReference(body, seeded, project.annotators);
    });
  }

  it("counts a project's rows job by job: split over two jobs, the project's figures are the same; each job's are its own", async () => {
    const seeded = caseNamed("random-missing");
    const project = await seedCase(seeded, 2);
    expectMatchesReference(await readAgreement(project.pm, project.project_id), seeded, project.annotators);
    const [first, second] = await Promise.all(project.jobs.map((jobId) => readAgreement(project.pm, project.project_id, `?job_id=${jobId}`)));
    expect(first!.job_id).toBe(project.jobs[0]);
    seeded.expected.questions.forEach((expected, i) => expect(first!.questions[i]!.rows + second!.questions[i]!.rows).toBe(expected.rows));
  });

  it("narrows to one question; a multi_label question is one entry per option", async () => {
    const seeded = caseNamed("random-three-complete");
    const project = await seedCase(seeded);
    const stars = await readAgreement(project.pm, project.project_id, "?question=stars");
    expect(stars.questions.map((q) => q.name)).toEqual(["stars"]);
    expect(stars.pairs.every((pair) => pair.question === "stars")).toBe(true);
    const expected = seeded.expected.questions.find((q) => q.name === "stars")!;
    for (const figure of FIGURES) expectFigure(stars.questions[0]![figure], expected[figure], `stars ${figure}`);
    const topics = await readAgreement(project.pm, project.project_id, "?question=topics");
    expect(topics.questions.map((q) => [q.name, q.option])).toEqual([["topics", "price"], ["topics", "service"], ["topics", "quality"]]);
    expect(topics.pairs).toHaveLength(9);
  });
});

describe("undefined figures and bad input", () => {
  let project: AnnotationProject;
  let jobId: number;
  let annotators: Account[];

  beforeAll(async () => {
    project = await annotationProject({ rows: 4 });
    const questions = [
      { name: "label", type: "label", required: false, options: ["a", "b"] },
      { name: "stars", type: "rating", required: false, min: 1, max: 5 },
      { name: "note", type: "text", required: false },
    ];
    const schema = await request("PUT", `/api/v1/projects/${project.project_id}/label-schema`, { token: project.pm.token, body: { questions } });
    expect(schema.status).toBe(200);
    annotators = [await createUser("annotator"), await createUser("annotator")];
    jobId = (await createJob(project.pm, project.project_id, { table_id: project.table_id })).job_id;
    // Everyone answers "a" and 3: no disagreement is expected, so α and κ are undefined (null); row 3 has one answer.
    await insertResponses(jobId, annotators, [
      ...[0, 1, 2].flatMap((row) => [0, 1].map((annotator) => ({ row, annotator, data: { label: "a", stars: 3 } }))),
      { row: 3, annotator: 0, data: { label: "b", stars: 1 } },
    ]);
  });

  it("answers null where a figure is undefined (one value throughout), and counts only rows with two answers", async () => {
    const body = await readAgreement(project.pm, project.project_id);
    expect(body.questions).toEqual([
      { name: "label", type: "label", option: null, raters: 2, rows: 3, percent_agreement: 1, krippendorff_alpha: null, fleiss_kappa: null, cohen_kappa: null },
      { name: "stars", type: "rating", option: null, raters: 2, rows: 3, percent_agreement: 1, krippendorff_alpha: null, fleiss_kappa: null, cohen_kappa: null },
    ]);
    expect(body.pairs).toEqual([
      { question: "label", option: null, annotator_a: annotators[0]!.user_id, annotator_b: annotators[1]!.user_id, rows: 3, cohen_kappa: null },
      { question: "stars", option: null, annotator_a: annotators[0]!.user_id, annotator_b: annotators[1]!.user_id, rows: 3, cohen_kappa: null },
    ]);
  });

  it("is 422 for a question the schema does not have or that has no agreement figure, 404 for an unknown project or job", async () => {
    for (const question of ["note", "nothing_here"]) {
      const response = await request("GET", agreementPath(project.project_id, `?question=${question}`), { token: project.pm.token });
      expect(response.status).toBe(422);
      expect(response.roundTrips).toBe(1);
      expect(response.body.errors[0].path).toBe("query.question");
    }
    expect((await request("GET", agreementPath(project.project_id, "?question=Not-A-Name"), { token: project.pm.token })).status).toBe(422);
    expect((await request("GET", agreementPath(2_147_483_000), { token: project.pm.token })).status).toBe(404);
    const elsewhere = await annotationProject({ rows: 1 });
    const foreignJob = await createJob(elsewhere.pm, elsewhere.project_id, { table_id: elsewhere.table_id });
    const admin = await createUser("admin");
    const notInProject = await request("GET", agreementPath(project.project_id, `?job_id=${foreignJob.job_id}`), { token: admin.token });
    expect(notInProject.status).toBe(404);
    expect(notInProject.roundTrips).toBe(1);
  });

  it("has no figures without a label schema", async () => {
    const bare = await annotationProject({ rows: 1 });
    expect(await readAgreement(bare.pm, bare.project_id)).toMatchObject({ questions: [], pairs: [] });
  });
});

describe("who reads agreement", () => {
  let project: Seeded;
  let reviewer: Account;
  let clientMember: Account;

  beforeAll(async () => {
    // random-two's rows over two jobs; the reviewer is assigned to the first only.
    project = await seedCase(caseNamed("random-two"), 2);
    reviewer = await createUser("reviewer");
    await assign(project.pm, project.jobs[0]!, reviewer, "reviewer");
    await assign(project.pm, project.jobs[0]!, project.annotators[0]!, "annotator");
    clientMember = await createUser("client_member", project.org_id);
  });

  it("gives a reviewer the figures of the jobs they review, and refuses annotators", async () => {
    const own = await readAgreement(reviewer, project.project_id);
    const firstJob = await readAgreement(project.pm, project.project_id, `?job_id=${project.jobs[0]}`);
    expect(own.questions).toEqual(firstJob.questions);
    expect(own.pairs).toEqual(firstJob.pairs);
    const otherJob = await request("GET", agreementPath(project.project_id, `?job_id=${project.jobs[1]}`), { token: reviewer.token });
    expect(otherJob.status).toBe(404);
    for (const query of ["", `?job_id=${project.jobs[0]}`]) {
      const refused = await request("GET", agreementPath(project.project_id, query), { token: project.annotators[0]!.token });
      expect(refused.status).toBe(403);
      expect(refused.roundTrips).toBe(1);
    }
  });

  it("gives the client organization the figures of its reviewed jobs only", async () => {
    const before = await readAgreement(clientMember, project.project_id);
    expect(before.questions.every((q) => q.rows === 0 && q.krippendorff_alpha === null)).toBe(true);
    expect(before.pairs).toEqual([]);
    const notYet = await request("GET", agreementPath(project.project_id, `?job_id=${project.jobs[0]}`), { token: project.client.token });
    expect(notYet.status).toBe(403);
    await db.execute(sql`update annotation_job set status = 'reviewed', submitted_at = now(), reviewed_at = now() where job_id = ${project.jobs[0]!}`);
    const after = await readAgreement(project.client, project.project_id);
    const firstJob = await readAgreement(project.pm, project.project_id, `?job_id=${project.jobs[0]}`);
    expect(after.questions).toEqual(firstJob.questions);
    const stranger = await registerClient();
    expect((await request("GET", agreementPath(project.project_id), { token: stranger.token })).status).toBe(404);
  });
});
