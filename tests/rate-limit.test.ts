/**
 * The per-caller API limit (wrangler.toml's API_LIMITER, 600 requests per 60 s, which
 * Miniflare simulates): a caller over it gets 429 problem+json with Retry-After, at no
 * database round trip, while other callers, and the same user's API token, go on.
 */
import { describe, expect, it } from "vitest";
import { createUser, registerClient } from "./helpers/factories.ts";
import { request, type ApiResponse } from "./helpers/http.ts";

const LIMIT = 600;
const METHODS = ["get", "post", "put", "patch", "delete"] as const;

// The cheapest authenticated request: authentication and the limit run, then the path
// parameter fails validation (422) before any database work.
const cheap = (token: string) => request("GET", "/api/v1/projects/0", { token });

/**
 * Requests in bursts until the first 429. The limiter counts in fixed windows of its
 * period, so a burst may straddle a window boundary: at most 2 × LIMIT requests pass
 * before a refusal, and never fewer than LIMIT.
 */
async function untilThrottled(token: string): Promise<{ passed: number; refused: ApiResponse }> {
  let passed = 0;
  while (passed <= 2 * LIMIT) {
    const answers = await Promise.all(Array.from({ length: 50 }, () => cheap(token)));
    const refused = answers.find((answer) => answer.status === 429);
    if (refused) return { passed: passed + answers.filter((answer) => answer.status !== 429).length, refused };
    for (const answer of answers) expect(answer.status).toBe(422);
    passed += answers.length;
  }
  throw new Error(`no 429 after ${passed} requests`);
}

describe("the per-caller API rate limit", () => {
  it("answers a caller over the limit 429 with Retry-After, in no round trip; other callers and its API token are unaffected", async () => {
    const [caller, bystander] = await Promise.all([registerClient(), createUser("pm")]);
    const created = await request("POST", "/api/v1/api-tokens", { token: caller.token, body: { name: "script" } });
    expect(created.status).toBe(201);
    const apiToken = created.body.token as string;

    const { passed, refused } = await untilThrottled(caller.token);
    // Sign-up's GET /auth/me and the token's creation counted too.
    expect(passed + 2).toBeGreaterThanOrEqual(LIMIT);
    expect(passed).toBeLessThanOrEqual(2 * LIMIT);
    expect(refused.headers.get("retry-after")).toBe("60");
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    expect(refused.body).toMatchObject({ type: "urn:grandscale:problem:rate-limited", status: 429, detail: expect.stringMatching(/Too many requests/) });
    expect(refused.roundTrips).toBe(0);

    // Still refused, on a real route too, without touching the database.
    const me = await request("GET", "/api/v1/auth/me", { token: caller.token });
    expect(me.status).toBe(429);
    expect(me.roundTrips).toBe(0);

    // Another caller, and the same user's API token (its own budget), are served.
    const other = await request("GET", "/api/v1/auth/me", { token: bystander.token });
    expect(other.status).toBe(200);
    const byToken = await request("GET", "/api/v1/auth/me", { token: apiToken });
    expect(byToken.status).toBe(200);
  });

  it("is declared for every authenticated operation in /openapi.json, with Retry-After", async () => {
    const { body } = await request("GET", "/openapi.json");
    const operations = Object.entries(body.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method) => ({ where: `${method.toUpperCase()} ${path}`, operation: item[method] })),
    );
    const authenticated = operations.filter(({ operation }) => operation.security?.some((scheme: Record<string, unknown>) => "bearerAuth" in scheme));
    expect(authenticated.length).toBeGreaterThan(20);
    for (const { where, operation } of authenticated) {
      const answer = operation.responses["429"];
      expect(answer?.content?.["application/problem+json"], where).toBeDefined();
      expect(answer?.headers?.["Retry-After"], where).toBeDefined();
    }
  });
});
