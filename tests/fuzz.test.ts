/**
 * Fuzzing from /openapi.json: every operation, as several identities, with plausible and
 * hostile parameters, headers and bodies (tests/fuzz/). The contract it holds the API
 * to: bad input is a 4xx, always; every status answered is declared for the operation;
 * errors are problem+json. CI runs a short run with a fresh seed; `npm run fuzz --
 * --requests 10000 [--seed N]` runs a long one or replays a failure's seed.
 */
import { describe, expect, inject, it } from "vitest";
import { operationsOf } from "./fuzz/openapi.ts";
import { seededRandom, seedOf } from "./fuzz/prng.ts";
import type { Identity } from "./fuzz/requests.ts";
import { coverage, fuzz, summarize } from "./fuzz/runner.ts";
import { IdPool } from "./fuzz/values.ts";
import { staffedJob } from "./helpers/annotation.ts";
import { createUser, platformOrgId, TEST_PASSWORD, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

declare module "vitest" {
  export interface ProvidedContext {
    fuzzRequests: number;
    fuzzSeed: string;
  }
}

/**
 * API tokens of an account, so its share of a long run stays under the per-caller rate
 * limit (600 a minute, each token its own budget). Their ids are guarded: the fuzzer
 * must not revoke the credentials it is using.
 */
async function credentialsOf(account: Account, extraTokens: number, pool: IdPool): Promise<string[]> {
  const tokens = [account.token];
  for (let index = 0; index < extraTokens; index++) {
    const created = await request("POST", "/api/v1/api-tokens", { token: account.token, body: { name: `fuzz ${index}` } });
    if (created.status !== 201) break;
    tokens.push(created.body.token);
    pool.guard("token_id", created.body.token_id, "mutation");
  }
  return tokens;
}

/** Identities with real data to reach (a staffed job in a client project), and the ids they must not destroy. */
async function fuzzWorld(requests: number) {
  const [world, admin, platformOrg] = await Promise.all([staffedJob({ rows: 5 }), createUser("admin"), platformOrgId()]);
  const pool = new IdPool();
  const accounts: [string, Account][] = [["platform admin", admin], ["client admin", world.client], ["pm", world.pm], ["annotator", world.annotator]];
  const extraTokens = Math.ceil(requests / (accounts.length + 1) / 400);
  const identities: Identity[] = [{ name: "anonymous", tokens: [] }];
  for (const [name, account] of accounts) identities.push({ name, tokens: await credentialsOf(account, extraTokens, pool) });
  for (const account of [admin, world.client, world.pm, world.annotator, world.reviewer, world.qc]) pool.guard("user_id", account.user_id, "mutation");
  // Sign-in can succeed; current_password stays unknown, so PATCH /auth/me never ends an identity's sessions.
  pool.texts.set("email", [admin.email, world.client.email, world.annotator.email]);
  pool.texts.set("password", [TEST_PASSWORD]);
  pool.guard("org_id", world.org_id, "mutation");
  pool.guard("org_id", platformOrg, "mutation");
  for (const name of ["project_id", "file_id", "version_id", "table_id"] as const) pool.guard(name, world[name], "delete");
  pool.guard("job_id", world.job.job_id, "delete");
  const assignments = await request("GET", `/api/v1/annotation-jobs/${world.job.job_id}/assignments`, { token: world.pm.token });
  pool.harvest(assignments.body);
  return { identities, pool };
}

const count = inject("fuzzRequests");

describe("fuzzing every operation of /openapi.json", () => {
  // About 150 requests a second here; the timeout leaves room for a slow machine.
  it("answers no 5xx and only declared statuses, errors as problem+json", { timeout: 120_000 + count * 50 }, async () => {
    const seed = seedOf(inject("fuzzSeed"));
    const document = await request("GET", "/openapi.json");
    const operations = operationsOf(document.body);
    const { identities, pool } = await fuzzWorld(count);

    const report = await fuzz({ operations, identities, pool, random: seededRandom(seed), count });

    const seconds = (report.milliseconds / 1000).toFixed(1);
    console.info(`fuzz: ${report.requests} requests over ${operations.length} operations in ${seconds} s, seed ${seed}, ${report.failures.length} failures`);
    console.info(`fuzz: ${coverage(report, operations)}`);
    const failures = summarize(report.failures);
    expect(failures, `fuzz seed ${seed} (replay: npm run fuzz -- --seed ${seed} --requests ${count})`).toEqual([]);
  });
});
