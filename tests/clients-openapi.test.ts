import { describe, expect, it } from "vitest";
import snapshot from "../clients/openapi.json";
import pythonCopy from "../clients/python/grandscale/openapi.json";
import { request } from "./helpers/http.ts";

const STALE = "clients/openapi.json is stale: run `npm run client:generate` and commit clients/";

describe("clients/openapi.json, the spec the clients are generated from", () => {
  it("is the live /openapi.json", async () => {
    const live = await request("GET", "/openapi.json");
    expect(live.status).toBe(200);
    expect(snapshot, STALE).toEqual(live.body);
  });

  it("is the copy the Python package ships", () => {
    expect(pythonCopy, STALE).toEqual(snapshot);
  });
});
