/**
 * When an API token's cached principal has gone stale (its owner's roles changed since
 * this isolate looked it up), the guard refused the request's first database call, so
 * nothing was read or written: the token is forgotten (middleware/errors.ts) and the
 * request runs once more from a fresh lookup. The marker header never leaves the Worker.
 */
import { TOKEN_PREFIXES } from "../../lib/opaque-tokens.ts";

export const STALE_PRINCIPAL_HEADER = "x-grandscale-stale-principal";

// Two: a role change during the retry's own lookup is the only way to go stale twice.
const MAX_RUNS = 2;

type FetchHandler<Env> = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

function carriesApiToken(request: Request): boolean {
  return (request.headers.get("authorization") ?? "").replace(/^Bearer\s+/i, "").startsWith(TOKEN_PREFIXES.apiToken);
}

export function rerunOnStalePrincipal<Env>(fetch: FetchHandler<Env>): FetchHandler<Env> {
  return async (request, env, ctx) => {
    if (!carriesApiToken(request)) return fetch(request, env, ctx);
    let attempt = request;
    for (let run = 1; ; run += 1) {
      const spare = run < MAX_RUNS ? attempt.clone() : null;
      const response = await fetch(attempt, env, ctx);
      if (!response.headers.has(STALE_PRINCIPAL_HEADER)) return response;
      if (!spare) {
        const final = new Response(response.body, response);
        final.headers.delete(STALE_PRINCIPAL_HEADER);
        return final;
      }
      attempt = spare;
    }
  };
}
