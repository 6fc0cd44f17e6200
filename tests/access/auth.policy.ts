import { clientAddress, TEST_PASSWORD, unique } from "../helpers/factories.ts";
import { request } from "../helpers/http.ts";
import { statuses, type OperationPolicy } from "./policy.ts";
import { insertSession } from "./world.ts";

// Sign-in and sign-up are throttled per client address: every call comes from a fresh one.
const fromFreshAddress = () => ({ "cf-connecting-ip": clientAddress() });

/**
 * Accounts and credentials: every actor may sign up, sign in, refresh, sign out and
 * manage their own API tokens; nobody, not even a platform admin, reaches another
 * user's token (404).
 */
export const policies: OperationPolicy[] = [
  {
    operationId: "register",
    request: () => ({
      method: "POST",
      path: "/api/v1/auth/register",
      body: { email: `${unique("signup")}@client.test`, password: TEST_PASSWORD, full_name: "Sign Up", organization_name: unique("Signup Org") },
      headers: fromFreshAddress(),
    }),
    expect: statuses(201, {}),
  },
  {
    operationId: "login",
    request: (world, actor) => ({
      method: "POST",
      path: "/api/v1/auth/login",
      body: { email: world.accounts[actor].email, password: TEST_PASSWORD },
      headers: fromFreshAddress(),
    }),
    expect: statuses(200, {}),
  },
  {
    operationId: "refreshTokens",
    // A session of its own, so rotating it disturbs no other.
    request: async (world, actor) => ({
      method: "POST",
      path: "/api/v1/auth/refresh",
      body: { refresh_token: await insertSession(world.accounts[actor].user_id) },
    }),
    expect: statuses(200, {}),
  },
  {
    operationId: "logout",
    request: async (world, actor) => ({
      method: "POST",
      path: "/api/v1/auth/logout",
      body: { refresh_token: await insertSession(world.accounts[actor].user_id) },
    }),
    expect: statuses(204, {}),
  },
  { operationId: "getCurrentUser", request: () => ({ method: "GET", path: "/api/v1/auth/me" }), expect: statuses(200, {}) },
  {
    // Every role manages its own account; a rename leaves the caller's tokens as they are.
    operationId: "updateCurrentUser",
    request: () => ({ method: "PATCH", path: "/api/v1/auth/me", body: { full_name: unique("Renamed Self") } }),
    expect: statuses(200, {}),
  },
  {
    operationId: "createApiToken",
    request: () => ({ method: "POST", path: "/api/v1/api-tokens", body: { name: unique("matrix token") } }),
    expect: statuses(201, {}),
  },
  { operationId: "listApiTokens", request: () => ({ method: "GET", path: "/api/v1/api-tokens" }), expect: statuses(200, {}) },
  {
    operationId: "revokeApiToken",
    // Each actor aims at a fresh token of the client admin's: only its owner may revoke it.
    request: async (world) => {
      const created = await request("POST", "/api/v1/api-tokens", { token: world.accounts.client_admin.token, body: { name: unique("target token") } });
      if (created.status !== 201) throw new Error(`creating the target token answered ${created.status}`);
      return { method: "DELETE", path: `/api/v1/api-tokens/${created.body.token_id}` };
    },
    expect: statuses(404, { client_admin: 204 }),
  },
];
