/**
 * Where a webhook may point. In production only `https` to a public host name: no IP
 * literals (v4, v6, or the integer and hex spellings URL parsing turns into v4), no
 * single-label names, and none of the names reserved for loopback and private networks.
 * A name that resolves to a private address is not checked here: Workers' fetch cannot
 * reach private networks. WEBHOOK_ALLOW_INSECURE=true (npm run dev, tests) lifts all of
 * it so local receivers work.
 */
import { ApiError } from "../../lib/errors.ts";

const PRIVATE_SUFFIXES = [".localhost", ".local", ".internal", ".intranet", ".lan", ".home", ".corp", ".private", ".home.arpa", ".localdomain", ".test", ".invalid", ".example", ".onion", ".arpa"];

function invalidUrl(message: string): ApiError {
  return new ApiError("validation_failed", "The webhook URL is not an allowed destination.", { errors: [{ path: "body.url", message }] });
}

/** The URL as stored (normalised by URL parsing), or 422 naming body.url. */
export function checkDestination(raw: string, allowInsecure: boolean): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidUrl("must be an absolute URL");
  }
  if (url.protocol !== "https:" && !(allowInsecure && url.protocol === "http:")) throw invalidUrl("must use https");
  if (url.username || url.password) throw invalidUrl("must not carry credentials");
  if (url.hash) throw invalidUrl("must not carry a fragment");
  if (allowInsecure) return url.toString();
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[") || /^[\d.]+$/.test(host) || /^0x/i.test(host)) throw invalidUrl("must name a host, not an IP address");
  if (!host.includes(".")) throw invalidUrl("must be a public host name (a single label such as localhost is not)");
  if (PRIVATE_SUFFIXES.some((suffix) => host.endsWith(suffix))) throw invalidUrl("must be a public host name, not a loopback or private one");
  return url.toString();
}
