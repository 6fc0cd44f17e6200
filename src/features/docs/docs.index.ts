import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../lib/types.ts";
import { docsPage } from "./docs.page.ts";

type OpenAPIDocument = ReturnType<OpenAPIHono<AppEnv>["getOpenAPI31Document"]>;

const DOCUMENT_INFO = {
  openapi: "3.1.0",
  info: {
    title: "GrandScale API",
    version: "1.0.0",
    description:
      "The backend of the GrandScale managed data-annotation service. Errors are RFC 9457 problem documents; " +
      "lists are cursor-paginated; every mutation is audited.",
    license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
  },
  servers: [{ url: "/", description: "This deployment" }],
  tags: [{ name: "Meta", description: "Health, the OpenAPI document and this reference." }],
};

export function openAPIDocument(app: OpenAPIHono<AppEnv>): OpenAPIDocument {
  return app.getOpenAPI31Document(DOCUMENT_INFO);
}

/**
 * `/openapi.json` is generated from the route definitions once per isolate (the
 * registry does not change after start-up), and `/docs` renders it.
 */
export function registerDocs(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT or API token",
    description: "An access token from `POST /api/v1/auth/login`, or an API token.",
  });

  let document: OpenAPIDocument | undefined;
  app.get("/openapi.json", (c) => c.json((document ??= openAPIDocument(app))));
  app.get("/docs", (c) => c.html(docsPage));
  app.get("/docs/assets/*", (c) => c.env.ASSETS.fetch(c.req.raw));
}
