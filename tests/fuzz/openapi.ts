/**
 * The fuzzer's view of /openapi.json: every operation with its parameters, its body's
 * schema and the statuses it declares. Nothing here is written per route: a new route
 * is fuzzed as soon as it is in the document.
 */
export type Schema = Record<string, any>;

export type Parameter = { name: string; in: "path" | "query" | "header"; required: boolean; schema: Schema };

export type Operation = {
  method: string;
  /** The templated path, e.g. `/api/v1/projects/{project_id}`. */
  path: string;
  operationId: string;
  parameters: Parameter[];
  body: Schema | null;
  bodyRequired: boolean;
  statuses: Set<number>;
  /** Statuses whose declared content is application/problem+json. */
  problemStatuses: Set<number>;
};

const METHODS = ["get", "post", "put", "patch", "delete"];

export function operationsOf(document: Schema): Operation[] {
  const resolve = resolver(document);
  return Object.entries(document.paths as Record<string, Schema>).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => {
      const operation = item[method] as Schema;
      const responses = operation.responses as Record<string, Schema>;
      const content = operation.requestBody?.content?.["application/json"];
      return {
        method: method.toUpperCase(),
        path,
        operationId: operation.operationId,
        parameters: ((operation.parameters ?? []) as Schema[]).map((parameter) => ({
          name: parameter.name,
          in: parameter.in,
          required: Boolean(parameter.required),
          schema: resolve(parameter.schema ?? {}),
        })),
        body: content ? resolve(content.schema ?? {}) : null,
        bodyRequired: Boolean(operation.requestBody?.required),
        statuses: new Set(Object.keys(responses).map(Number)),
        problemStatuses: new Set(
          Object.entries(responses)
            .filter(([, response]) => response.content?.["application/problem+json"])
            .map(([status]) => Number(status)),
        ),
      };
    }),
  );
}

/** Inlines `$ref`s (the document's schemas are not recursive). */
function resolver(document: Schema) {
  const resolve = (schema: unknown): any => {
    if (Array.isArray(schema)) return schema.map(resolve);
    if (!schema || typeof schema !== "object") return schema;
    const ref = (schema as Schema).$ref;
    if (typeof ref === "string") {
      const target = ref.replace(/^#\//, "").split("/").reduce((node: any, key) => node?.[key], document);
      return resolve(target);
    }
    return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, resolve(value)]));
  };
  return resolve;
}

/** The schema's types as a list (`type: ["string", "null"]` in OpenAPI 3.1). */
export function typesOf(schema: Schema): string[] {
  if (Array.isArray(schema.type)) return schema.type;
  if (typeof schema.type === "string") return [schema.type];
  if (schema.enum) return ["string"];
  if (schema.properties) return ["object"];
  return [];
}
