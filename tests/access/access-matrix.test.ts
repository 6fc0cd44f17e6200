/// <reference types="vite/client" />
/**
 * The access matrix, generated from /openapi.json: every operation the API documents
 * must have a policy (tests/access/*.policy.ts), every secured operation refuses an
 * anonymous caller, and every actor gets exactly the status its policy names on the
 * shared world. Failures are collected and reported together, one line each.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { request } from "../helpers/http.ts";
import { ACTORS, type Actor, type OperationPolicy, type RequestSpec, type World } from "./policy.ts";
import { buildWorld } from "./world.ts";

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

type Operation = {
  operationId: string;
  method: string;
  path: string;
  secured: boolean;
  documentedStatuses: Set<number>;
};

type LoadedPolicy = { file: string; policy: OperationPolicy };

const policyModules = import.meta.glob<{ policies: OperationPolicy[] }>("./*.policy.ts", { eager: true });
const loadedPolicies: LoadedPolicy[] = Object.entries(policyModules).flatMap(([file, module]) =>
  module.policies.map((policy) => ({ file: file.replace(/^\.\//, ""), policy })),
);
const policyById = new Map(loadedPolicies.map((loaded) => [loaded.policy.operationId, loaded.policy]));

async function documentedOperations(): Promise<Operation[]> {
  const response = await request("GET", "/openapi.json");
  if (response.status !== 200) throw new Error(`GET /openapi.json answered ${response.status}`);
  const paths = response.body.paths as Record<string, Record<string, { operationId: string; security?: unknown[]; responses: Record<string, unknown> }>>;
  return Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => {
      const operation = item[method]!;
      return {
        operationId: operation.operationId,
        method: method.toUpperCase(),
        path,
        secured: (operation.security ?? []).length > 0,
        documentedStatuses: new Set(Object.keys(operation.responses).map(Number)),
      };
    }),
  );
}

/** `/api/v1/users/{user_id}` → a pattern that a concrete path (without its query) must match. */
function pathPattern(template: string): RegExp {
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+");
  return new RegExp(`^${escaped}$`);
}

/** One readable failure message for everything that went wrong, one line each. */
function report(title: string, lines: string[]) {
  return `${lines.length} ${title}:\n  ${lines.join("\n  ")}\n`;
}

function describeOperation(operation: Operation) {
  return `${operation.operationId} (${operation.method} ${operation.path})`;
}

/** What went wrong for one actor, or null when the answer is the expected one. */
async function checkActor(world: World, operation: Operation, policy: OperationPolicy, actor: Actor): Promise<string | null> {
  const where = `${operation.operationId} as ${actor}`;
  let spec: RequestSpec;
  try {
    spec = await policy.request(world, actor);
  } catch (error) {
    return `${where}: building the request failed: ${error instanceof Error ? error.message : String(error)}`;
  }
  const pathOnly = spec.path.split("?")[0]!;
  if (spec.method.toUpperCase() !== operation.method || !pathPattern(operation.path).test(pathOnly)) {
    return `${where}: the policy sends ${spec.method.toUpperCase()} ${spec.path}, which is not ${operation.method} ${operation.path}`;
  }
  const headers = { authorization: `Bearer ${world.accounts[actor].token}`, ...spec.headers };
  const response = await request(spec.method, spec.path, { body: spec.body, headers });
  const expected = policy.expect[actor];
  if (response.status === expected) return null;
  const detail = typeof response.body === "object" && response.body && "detail" in response.body ? ` — ${(response.body as { detail: string }).detail}` : "";
  return `${where}: expected ${expected}, got ${response.status} (${spec.method.toUpperCase()} ${spec.path})${detail}`;
}

describe("access matrix", () => {
  let world: World;
  let operations: Operation[];

  beforeAll(async () => {
    [world, operations] = await Promise.all([buildWorld(), documentedOperations()]);
  }, 120_000);

  it("has one policy for every documented operation, and no policy for an unknown one", () => {
    const documented = new Set(operations.map((operation) => operation.operationId));
    const problems = [
      ...operations.filter((operation) => !policyById.has(operation.operationId)).map((operation) => `no policy: ${describeOperation(operation)}`),
      ...loadedPolicies
        .filter(({ policy }) => !documented.has(policy.operationId))
        .map(({ file, policy }) => `${file}: policy for ${policy.operationId}, which /openapi.json does not document`),
      ...loadedPolicies
        .filter(({ policy }, index) => loadedPolicies.findIndex((other) => other.policy.operationId === policy.operationId) !== index)
        .map(({ file, policy }) => `${file}: a second policy for ${policy.operationId}`),
    ];
    expect(problems.length, report("operations and policies do not line up", problems)).toBe(0);
  });

  it("every policy names a status the operation documents", () => {
    const problems = operations.flatMap((operation) => {
      const policy = policyById.get(operation.operationId);
      if (!policy) return [];
      const undocumented = [...new Set(ACTORS.map((actor) => policy.expect[actor]))].filter((status) => !operation.documentedStatuses.has(status));
      return undocumented.map((status) => `${describeOperation(operation)} is expected to answer ${status}, which its responses do not declare`);
    });
    expect(problems.length, report("policies expect undocumented statuses", problems)).toBe(0);
  });

  it("refuses every secured operation without a token (401 problem)", async () => {
    const secured = operations.filter((operation) => operation.secured);
    const problems = await Promise.all(
      secured.map(async (operation) => {
        const path = operation.path.replace(/\{[^}]+\}/g, "1");
        const withBody = ["POST", "PUT", "PATCH"].includes(operation.method);
        const response = await request(operation.method, path, withBody ? { body: {} } : {});
        const problemJson = response.headers.get("content-type") === "application/problem+json";
        return response.status === 401 && problemJson ? null : `${describeOperation(operation)}: anonymous call answered ${response.status} ${response.headers.get("content-type")}`;
      }),
    );
    const failures = problems.filter((problem) => problem !== null);
    expect(failures.length, report("secured operations served anonymous callers", failures)).toBe(0);
  });

  it("answers every actor exactly as its policy says", async () => {
    const mismatches: string[] = [];
    for (const operation of operations) {
      const policy = policyById.get(operation.operationId);
      if (!policy) continue;
      // Actors of one operation run together: policies give each actor its own target.
      const results = await Promise.all(ACTORS.map((actor) => checkActor(world, operation, policy, actor)));
      mismatches.push(...results.filter((result) => result !== null));
    }
    await Promise.all(loadedPolicies.map(({ policy }) => policy.settle?.()));
    expect(mismatches.length, report("answers differ from the policies", mismatches)).toBe(0);
  }, 300_000);
});
