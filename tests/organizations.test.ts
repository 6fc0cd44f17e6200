import { beforeAll, describe, expect, it } from "vitest";
import { sql, testDb } from "./helpers/db.ts";
import { clientAddress, createUser, platformOrgId, registerClient, TEST_PASSWORD, unique, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

const db = testDb();

let admin: Account;

beforeAll(async () => {
  admin = await createUser("admin");
});

async function createOrganization(name = unique("Org")) {
  const response = await request("POST", "/api/v1/organizations", { token: admin.token, body: { name } });
  expect(response.status).toBe(201);
  return response;
}

async function eventsFor(orgId: number, action: string) {
  const result = await db.execute(sql`select actor_id, org_id, before, after, request_id from event_log
    where entity_type = 'organization' and entity_id = ${orgId} and action = ${action} order by event_id`);
  return result.rows as { actor_id: number; org_id: number; before: Record<string, unknown> | null; after: Record<string, unknown> | null; request_id: string }[];
}

describe("POST /organizations", () => {
  it("lets a platform admin create a client organization, audited, in one round trip", async () => {
    const name = unique("Created Org");
    const response = await createOrganization(name);
    expect(response.roundTrips).toBe(1);
    expect(response.body).toEqual({
      org_id: expect.any(Number),
      name,
      kind: "client",
      created_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
      deleted_at: null,
    });
    expect(response.headers.get("etag")).toMatch(/^"/);
    const [event] = await eventsFor(response.body.org_id, "organization.create");
    expect(event).toMatchObject({ actor_id: admin.user_id, org_id: response.body.org_id, after: { name, kind: "client" } });
    expect(event!.request_id).toBe(response.headers.get("x-request-id"));
  });

  it("is for platform admins only (403)", async () => {
    const client = await registerClient();
    const response = await request("POST", "/api/v1/organizations", { token: client.token, body: { name: unique("Sneaky") } });
    expect(response.status).toBe(403);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
  });

  it("validates the name with 422 and a field path", async () => {
    const response = await request("POST", "/api/v1/organizations", { token: admin.token, body: { name: "   " } });
    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual([expect.objectContaining({ path: "body.name" })]);
  });

  it("refuses a taken name with 409, also one held by a deleted organization", async () => {
    const created = await createOrganization();
    expect((await request("POST", "/api/v1/organizations", { token: admin.token, body: { name: created.body.name } })).status).toBe(409);
    await request("DELETE", `/api/v1/organizations/${created.body.org_id}`, { token: admin.token });
    expect((await request("POST", "/api/v1/organizations", { token: admin.token, body: { name: created.body.name } })).status).toBe(409);
  });
});

describe("GET /organizations", () => {
  it("filters by q and kind, sorts, and pages with a cursor, one round trip per page", async () => {
    const prefix = unique("Paged");
    const names = [`${prefix} C`, `${prefix} A`, `${prefix} B`];
    for (const name of names) await createOrganization(name);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `q=${encodeURIComponent(prefix)}&kind=client&sort=-name&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const page = await request("GET", `/api/v1/organizations?${query}`, { token: admin.token });
      expect(page.status).toBe(200);
      expect(page.roundTrips).toBe(1);
      seen.push(...page.body.data.map((org: { name: string }) => org.name));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([`${prefix} C`, `${prefix} B`, `${prefix} A`]);

    const platform = await request("GET", `/api/v1/organizations?kind=platform&q=${encodeURIComponent(prefix)}`, { token: admin.token });
    expect(platform.body.data).toEqual([]);
  });

  it("takes q literally (% and _ are not wildcards)", async () => {
    const prefix = unique("Literal");
    await createOrganization(`${prefix} 100% sure`);
    await createOrganization(`${prefix} 1000 sure`);
    const response = await request("GET", `/api/v1/organizations?q=${encodeURIComponent(`${prefix} 100%`)}`, { token: admin.token });
    expect(response.body.data.map((org: { name: string }) => org.name)).toEqual([`${prefix} 100% sure`]);
  });

  it("shows a client only its own organization", async () => {
    const client = await registerClient();
    await createOrganization();
    const response = await request("GET", "/api/v1/organizations", { token: client.token });
    expect(response.status).toBe(200);
    expect(response.body.data.map((org: { org_id: number }) => org.org_id)).toEqual([client.org_id]);
  });

  it("lists deleted organizations only for admins who ask", async () => {
    const created = await createOrganization();
    await request("DELETE", `/api/v1/organizations/${created.body.org_id}`, { token: admin.token });
    const q = encodeURIComponent(created.body.name);
    expect((await request("GET", `/api/v1/organizations?q=${q}`, { token: admin.token })).body.data).toEqual([]);
    const withDeleted = await request("GET", `/api/v1/organizations?q=${q}&include_deleted=true`, { token: admin.token });
    expect(withDeleted.body.data).toEqual([expect.objectContaining({ org_id: created.body.org_id, deleted_at: expect.any(String) })]);
    const client = await registerClient();
    expect((await request("GET", "/api/v1/organizations?include_deleted=true", { token: client.token })).status).toBe(403);
  });

  it("rejects bad parameters and forged cursors with 422", async () => {
    const badSort = await request("GET", "/api/v1/organizations?sort=kind&limit=0", { token: admin.token });
    expect(badSort.status).toBe(422);
    expect(badSort.body.errors.map((error: { path: string }) => error.path).sort()).toEqual(["query.limit", "query.sort"]);
    const forged = btoa(JSON.stringify(["created_at", "2026-13-45 99:00:00+00", 1]));
    const response = await request("GET", `/api/v1/organizations?sort=created_at&cursor=${forged}`, { token: admin.token });
    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual([{ path: "query.cursor", message: "invalid cursor" }]);
  });

  it("is refused to staff without organization:read (403)", async () => {
    const annotator = await createUser("annotator");
    expect((await request("GET", "/api/v1/organizations", { token: annotator.token })).status).toBe(403);
  });
});

describe("GET /organizations/{org_id}", () => {
  it("returns the organization with an ETag in one round trip", async () => {
    const client = await registerClient();
    const response = await request("GET", `/api/v1/organizations/${client.org_id}`, { token: client.token });
    expect(response.status).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(response.body).toMatchObject({ org_id: client.org_id, name: client.organization_name, kind: "client" });
    expect(response.headers.get("etag")).toMatch(/^"[A-Za-z0-9_-]+"$/);
  });

  it("is 404 across organizations and 403 for staff on their own", async () => {
    const client = await registerClient();
    const other = await registerClient();
    const hidden = await request("GET", `/api/v1/organizations/${client.org_id}`, { token: other.token });
    expect(hidden.status).toBe(404);
    expect(hidden.headers.get("content-type")).toBe("application/problem+json");
    const annotator = await createUser("annotator");
    expect((await request("GET", `/api/v1/organizations/${annotator.org_id}`, { token: annotator.token })).status).toBe(403);
    expect((await request("GET", `/api/v1/organizations/${client.org_id}`, { token: annotator.token })).status).toBe(404);
  });
});

describe("PATCH /organizations/{org_id}", () => {
  it("lets a client admin rename their organization, auditing only the changed field", async () => {
    const client = await registerClient();
    const name = unique("Renamed");
    const response = await request("PATCH", `/api/v1/organizations/${client.org_id}`, { token: client.token, body: { name } });
    expect(response.status).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(response.body.name).toBe(name);
    const [event] = await eventsFor(client.org_id, "organization.update");
    expect(event).toMatchObject({ actor_id: client.user_id, before: { name: client.organization_name }, after: { name } });
  });

  it("honours If-Match: the current ETag applies, a stale one is 412 and changes nothing", async () => {
    const { body, headers } = await createOrganization();
    const first = await request("PATCH", `/api/v1/organizations/${body.org_id}`, {
      token: admin.token,
      body: { name: unique("First") },
      headers: { "if-match": headers.get("etag")! },
    });
    expect(first.status).toBe(200);
    expect(first.headers.get("etag")).not.toBe(headers.get("etag"));

    const stale = await request("PATCH", `/api/v1/organizations/${body.org_id}`, {
      token: admin.token,
      body: { name: unique("Second") },
      headers: { "if-match": headers.get("etag")! },
    });
    expect(stale.status).toBe(412);
    expect(stale.roundTrips).toBe(1);
    const garbled = await request("PATCH", `/api/v1/organizations/${body.org_id}`, {
      token: admin.token,
      body: { name: unique("Third") },
      headers: { "if-match": '"bm90IGEgdmVyc2lvbg"' },
    });
    expect(garbled.status).toBe(412);
    const current = await request("GET", `/api/v1/organizations/${body.org_id}`, { token: admin.token });
    expect(current.body.name).toBe(first.body.name);
    expect(await eventsFor(body.org_id, "organization.update")).toHaveLength(1);
  });

  it("answers 409 for a taken name, 403 without the permission and 404 across organizations", async () => {
    const client = await registerClient();
    const other = await registerClient();
    const clash = await request("PATCH", `/api/v1/organizations/${client.org_id}`, { token: client.token, body: { name: other.organization_name } });
    expect(clash.status).toBe(409);
    const member = await createUser("client_member", client.org_id);
    expect((await request("PATCH", `/api/v1/organizations/${client.org_id}`, { token: member.token, body: { name: unique("M") } })).status).toBe(403);
    const crossTenant = await request("PATCH", `/api/v1/organizations/${client.org_id}`, { token: other.token, body: { name: unique("X") } });
    expect(crossTenant.status).toBe(404);
    expect(crossTenant.roundTrips).toBe(1);
  });
});

describe("DELETE and restore /organizations/{org_id}", () => {
  it("soft-deletes (its people can no longer sign in) and restores, each audited in one round trip", async () => {
    const client = await registerClient();
    const etag = (await request("GET", `/api/v1/organizations/${client.org_id}`, { token: admin.token })).headers.get("etag")!;
    const deleted = await request("DELETE", `/api/v1/organizations/${client.org_id}`, { token: admin.token, headers: { "if-match": etag } });
    expect(deleted.status).toBe(204);
    expect(deleted.roundTrips).toBe(1);
    expect((await request("GET", `/api/v1/organizations/${client.org_id}`, { token: admin.token })).status).toBe(404);
    const withDeleted = await request("GET", `/api/v1/organizations/${client.org_id}?include_deleted=true`, { token: admin.token });
    expect(withDeleted.body.deleted_at).toEqual(expect.any(String));
    const signIn = await request("POST", "/api/v1/auth/login", {
      body: { email: client.email, password: TEST_PASSWORD },
      headers: { "cf-connecting-ip": clientAddress() },
    });
    expect(signIn.status).toBe(401);

    const restored = await request("POST", `/api/v1/organizations/${client.org_id}/restore`, { token: admin.token });
    expect(restored.status).toBe(200);
    expect(restored.roundTrips).toBe(1);
    expect(restored.body.deleted_at).toBeNull();
    expect((await eventsFor(client.org_id, "organization.delete"))[0]).toMatchObject({ before: { deleted_at: null }, after: { deleted_at: expect.any(String) } });
    expect((await eventsFor(client.org_id, "organization.restore"))[0]).toMatchObject({ after: { deleted_at: null } });
  });

  it("answers 409 for restoring a live organization and for deleting the platform one", async () => {
    const { body } = await createOrganization();
    expect((await request("POST", `/api/v1/organizations/${body.org_id}/restore`, { token: admin.token })).status).toBe(409);
    expect((await request("DELETE", `/api/v1/organizations/${await platformOrgId()}`, { token: admin.token })).status).toBe(409);
  });

  it("answers 412 for a stale If-Match and leaves the organization alone", async () => {
    const { body, headers } = await createOrganization();
    await request("PATCH", `/api/v1/organizations/${body.org_id}`, { token: admin.token, body: { name: unique("Moved On") } });
    const stale = await request("DELETE", `/api/v1/organizations/${body.org_id}`, { token: admin.token, headers: { "if-match": headers.get("etag")! } });
    expect(stale.status).toBe(412);
    expect((await request("GET", `/api/v1/organizations/${body.org_id}`, { token: admin.token })).status).toBe(200);
  });

  it("is for platform admins: a client admin gets 403 on their own organization, 404 on another", async () => {
    const client = await registerClient();
    const other = await registerClient();
    expect((await request("DELETE", `/api/v1/organizations/${client.org_id}`, { token: client.token })).status).toBe(403);
    expect((await request("DELETE", `/api/v1/organizations/${client.org_id}`, { token: other.token })).status).toBe(404);
    expect((await request("POST", `/api/v1/organizations/${client.org_id}/restore`, { token: other.token })).status).toBe(404);
  });
});
