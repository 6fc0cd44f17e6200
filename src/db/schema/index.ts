/**
 * The whole relational model. drizzle-kit reads this file (drizzle.config.ts) and the
 * relations describe the model for drizzle-kit (the app does not use drizzle's relational queries).
 */
export * from "./enums.ts";
export * from "./identity.ts";
export * from "./projects.ts";
export * from "./files.ts";
export * from "./annotation.ts";
export * from "./audit.ts";
export * from "./exports.ts";
export * from "./suggestions.ts";
export * from "./webhooks.ts";
export * from "./validations.ts";
export * from "./relations.ts";
