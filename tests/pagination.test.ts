import { beforeAll, describe, expect, it } from "vitest";
import { encodeCursor } from "../src/lib/pagination.ts";
import { sql, testDb } from "./helpers/db.ts";
import { registerClient, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

const db = testDb();
// 1,000 rows at 20 a page: the same 50 pages, with concurrent inserts between them, as 10,000 at 200.
const EXISTING = 1_000;
const LIMIT = 20;

let owner: Account;
let existingIds: Set<number>;

beforeAll(async () => {
  // A fresh organization, so other test files' projects never enter the listing.
  owner = await registerClient();
  const inserted = await db.execute(sql`insert into project (org_id, name)
    select ${owner.org_id}, 'p-' || lpad(i::text, 5, '0') from generate_series(1, ${EXISTING}) i
    returning project_id`);
  existingIds = new Set((inserted.rows as { project_id: number }[]).map((row) => row.project_id));
}, 60_000);

/**
 * Pages through the organization's projects while another task keeps inserting rows,
 * some of which sort between rows already seen and rows still to come.
 */
async function listAllWhileInserting(sort: string) {
  const seen: number[] = [];
  let done = false;
  let batch = 0;
  const inserter = (async () => {
    while (!done) {
      batch += 1;
      await db.execute(sql`insert into project (org_id, name)
        select ${owner.org_id}, 'p-' || lpad((floor(random() * ${EXISTING}) + 1)::int::text, 5, '0') || '-late-' || ${sort} || '-' || ${batch} || '-' || j
        from generate_series(1, 5) j`);
    }
  })();
  try {
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `sort=${sort}&limit=${LIMIT}${cursor ? `&cursor=${cursor}` : ""}`;
      const page = await request("GET", `/api/v1/projects?${query}`, { token: owner.token });
      expect(page.status).toBe(200);
      expect(page.roundTrips).toBe(1);
      seen.push(...page.body.data.map((project: { project_id: number }) => project.project_id));
      cursor = page.body.next_cursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBeGreaterThanOrEqual(EXISTING / LIMIT);
  } finally {
    done = true;
    await inserter;
  }
  expect(batch).toBeGreaterThan(1);
  return seen;
}

function expectEveryExistingOnce(seen: number[]) {
  expect(new Set(seen).size).toBe(seen.length);
  const found = seen.filter((id) => existingIds.has(id));
  expect(found).toHaveLength(EXISTING);
}

describe("keyset pagination under concurrent inserts", () => {
  it("returns every pre-existing project exactly once, sorted by name while rows land in between", async () => {
    const seen = await listAllWhileInserting("name");
    expectEveryExistingOnce(seen);
  }, 120_000);

  it("returns every pre-existing project exactly once in the default order (newest first, all with the same created_at)", async () => {
    const seen = await listAllWhileInserting("-created_at");
    expectEveryExistingOnce(seen);
  }, 120_000);
});

describe("cursor and limit validation", () => {
  it("rejects limits outside 1–200 (422)", async () => {
    for (const limit of ["0", "201", "x"]) {
      const response = await request("GET", `/api/v1/projects?limit=${limit}`, { token: owner.token });
      expect(response.status).toBe(422);
      expect(response.body.errors[0].path).toBe("query.limit");
    }
  });

  it("rejects cursors that are garbage, from another sort order, or forged (422, never 500)", async () => {
    const first = await request("GET", "/api/v1/projects?sort=name&limit=1", { token: owner.token });
    const forged: [string, string][] = [
      ["-created_at", "not-a-cursor"],
      ["-created_at", first.body.next_cursor],
      ["-created_at", encodeCursor("-created_at", "yesterday", 1)],
      ["-created_at", encodeCursor("-created_at", "2026-01-01 00:00:00+00", "1; drop table project")],
      ["name", encodeCursor("name", 42, 1)],
    ];
    for (const [sort, cursor] of forged) {
      const response = await request("GET", `/api/v1/projects?sort=${sort}&cursor=${cursor}`, { token: owner.token });
      expect(response.status, cursor).toBe(422);
      expect(response.body.errors[0].path).toBe("query.cursor");
    }
  });
});
