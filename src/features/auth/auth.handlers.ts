import type { Context } from "hono";
import { authenticatedContext, serviceContext } from "../../lib/service-context.ts";
import type { AppEnv, AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./auth.routes.ts";
import * as account from "./account.service.ts";
import * as auth from "./auth.service.ts";

function clientAddress(c: Context<AppEnv>) {
  return c.req.header("cf-connecting-ip") ?? "unknown";
}

export const register: AppRouteHandler<typeof routes.register> = async (c) =>
  c.json(await auth.register(serviceContext(c), c.req.valid("json"), clientAddress(c)), 201);

export const login: AppRouteHandler<typeof routes.login> = async (c) =>
  c.json(await auth.login(serviceContext(c), c.req.valid("json"), clientAddress(c)), 200);

export const refresh: AppRouteHandler<typeof routes.refresh> = async (c) =>
  c.json(await auth.refresh(serviceContext(c), c.req.valid("json").refresh_token), 200);

export const logout: AppRouteHandler<typeof routes.logout> = async (c) => {
  await auth.logout(serviceContext(c), c.req.valid("json").refresh_token);
  return c.body(null, 204);
};

export const me: AppRouteHandler<typeof routes.me> = async (c) => c.json(await account.currentUser(authenticatedContext(c)), 200);

export const updateMe: AppRouteHandler<typeof routes.updateMe> = async (c) =>
  c.json(await account.updateCurrentUser(authenticatedContext(c), c.req.valid("json")), 200);
