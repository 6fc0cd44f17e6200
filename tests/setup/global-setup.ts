/**
 * Brings up a fresh database and the local Neon gateway for one test run, in Node,
 * before the Workers runtime starts, and hands their addresses to the Worker bindings
 * (vitest.config.mts). With DATABASE_URL set it creates a uniquely named database on
 * that server and drops it afterwards; otherwise it runs an in-memory PGlite.
 */
import pg from "pg";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../../scripts/lib/embedded-postgres.ts";
import { migrateDatabase } from "../../scripts/lib/migrate.ts";
import { startNeonGateway } from "../../scripts/lib/neon-gateway.ts";
import { generateSigningKey } from "../../scripts/lib/signing-keys.ts";
import { hashPassword } from "../../src/features/auth/password.ts";
import { TEST_PASSWORD } from "../helpers/test-password.ts";
import { startWebhookReceiver } from "./webhook-receiver.ts";
import { startChatCompletionsServer } from "./chat-completions-server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    gatewayUrl: string;
    signingKeys: string;
    /** TEST_PASSWORD's hash, derived once per run: the factories' users all share it. */
    testPasswordHash: string;
    /** The webhook receiver (tests/setup/webhook-receiver.ts) that deliveries go to. */
    webhookReceiverUrl: string;
    /** The local chat-completions API (chat-completions-server.ts), as LLM_BASE_URL. */
    llmUrl: string;
  }
}

async function createFreshDatabase(serverUrl: string) {
  const name = `grandscale_test_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

export default async function setup(project: TestProject) {
  const server = process.env.DATABASE_URL;
  const database = server ? await createFreshDatabase(server) : await startEmbeddedPostgres().then((db) => ({ url: db.url, drop: db.stop }));
  await migrateDatabase(database.url);
  const gateway = await startNeonGateway();
  const webhookReceiver = await startWebhookReceiver();
  const llm = await startChatCompletionsServer();

  project.provide("databaseUrl", database.url);
  project.provide("gatewayUrl", gateway.url);
  project.provide("signingKeys", JSON.stringify([await generateSigningKey("test-key-1")]));
  project.provide("testPasswordHash", await hashPassword(TEST_PASSWORD));
  project.provide("webhookReceiverUrl", webhookReceiver.url);
  project.provide("llmUrl", llm.url);

  return async () => {
    await gateway.close();
    await webhookReceiver.close();
    await llm.close();
    await database.drop();
  };
}
