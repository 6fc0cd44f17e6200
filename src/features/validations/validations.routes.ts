import { z } from "@hono/zod-openapi";
import { problem } from "../../lib/openapi-responses.ts";
import { cursorSchema, limitSchema, pageSchema } from "../../lib/pagination.ts";
import { jsonBody, pathId, protectedRoute } from "../../lib/routes.ts";
import { ValidationRulesSchema } from "./validation-rules.ts";
import { ProjectValidationRulesSchema, ValidationRunSchema, ViolationSchema } from "./validations.presenters.ts";

const TAG = "Dataset quality";

export const getValidationRules = protectedRoute({
  method: "get",
  path: "/projects/{project_id}/validation-rules",
  operationId: "getValidationRules",
  tags: [TAG],
  summary: "The project's validation rules",
  request: { params: z.object({ project_id: pathId("project_id") }) },
  responses: { 200: { description: "The rules (empty until set).", content: { "application/json": { schema: ProjectValidationRulesSchema } } } },
});

export const putValidationRules = protectedRoute({
  method: "put",
  path: "/projects/{project_id}/validation-rules",
  operationId: "putValidationRules",
  tags: [TAG],
  summary: "Replace the project's validation rules (at most 100, one rule of a kind per column)",
  request: { params: z.object({ project_id: pathId("project_id") }), body: jsonBody(z.strictObject({ rules: ValidationRulesSchema })) },
  responses: { 200: { description: "The rules as saved.", content: { "application/json": { schema: ProjectValidationRulesSchema } } } },
});

export const createValidation = protectedRoute({
  method: "post",
  path: "/file-tables/{table_id}/validations",
  operationId: "createValidation",
  tags: [TAG],
  summary: "Check a table against its project's validation rules, as a queue job",
  request: { params: z.object({ table_id: pathId("table_id") }) },
  responses: {
    202: { description: "Queued: read it back for progress and violations.", content: { "application/json": { schema: ValidationRunSchema } } },
    ...problem("conflict", "The project has no validation rules."),
    ...problem("service_unavailable", "The validation could not be queued; it is recorded as failed. Try again."),
  },
});

const validationParams = z.object({ validation_id: pathId("validation_id") });

export const getValidation = protectedRoute({
  method: "get",
  path: "/validations/{validation_id}",
  operationId: "getValidation",
  tags: [TAG],
  summary: "A validation run: status, progress and violation count",
  request: { params: validationParams },
  responses: { 200: { description: "The run.", content: { "application/json": { schema: ValidationRunSchema } } } },
});

export const listViolations = protectedRoute({
  method: "get",
  path: "/validations/{validation_id}/violations",
  operationId: "listViolations",
  tags: [TAG],
  summary: "A run's violations in (row_index, column, rule) order",
  request: { params: validationParams, query: z.object({ limit: limitSchema, cursor: cursorSchema }) },
  responses: { 200: { description: "A page of violations (those found so far while the run is running).", content: { "application/json": { schema: pageSchema(ViolationSchema) } } } },
});

export const downloadViolations = protectedRoute({
  method: "get",
  path: "/validations/{validation_id}/violations.csv",
  operationId: "downloadViolations",
  tags: [TAG],
  summary: "A run's violations as CSV (row_index, column, rule, value), streamed",
  request: { params: validationParams },
  responses: {
    200: {
      description: "RFC 4180, UTF-8, CRLF, with a header; cells starting with = + - @ tab or CR are prefixed with ' (formula-neutralised, as exports).",
      content: { "text/csv": { schema: z.string() } },
    },
  },
});
