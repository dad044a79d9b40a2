// The h1 engine: HTTP/1.1 over Deno.connect/Deno.connectTls, per-user keep-alive connections,
// request heads written from prebuilt bytes, responses parsed in place. A broken connection is
// never retried: the request fails with its own text and the next one opens a new connection.
import type { HttpEngine, HttpSession } from "../engine.ts";
import { Deadlines } from "./deadlines.ts";
import { BodySlab } from "./response.ts";
import { H1Session, type H1SessionConfig } from "./session.ts";
import { openTransport, type Transport, type TransportTarget } from "./transport.ts";

/** Options of the h1 engine. */
export interface H1EngineOptions {
  /** Skips certificate checks on https (node:tls with rejectUnauthorized false). */
  insecure?: boolean;
  /** The environment, for proxy variables (default: Deno.env, when permitted). */
  env?: (name: string) => string | undefined;
  /** Opens connections (default: TCP or TLS through `openTransport`; tests pass a fake). */
  open?: (target: TransportTarget) => Promise<Transport>;
}

/** The proxy variable that applies to `url`, if any (as fetch reads them). */
export function proxyFor(url: URL, env: (name: string) => string | undefined): string | undefined {
  const names = url.protocol === "https:"
    ? ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    : ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];
  const proxy = names.map(env).find((v) => v);
  if (!proxy) return undefined;
  const noProxy = env("NO_PROXY") ?? env("no_proxy") ?? "";
  const host = url.hostname.toLowerCase();
  for (const entry of noProxy.split(",").map((e) => e.trim().toLowerCase())) {
    if (entry === "*") return undefined;
    if (!entry) continue;
    const bare = entry.replace(/^\*?\./, "").replace(/:\d+$/, "");
    if (host === bare || host.endsWith(`.${bare}`)) return undefined;
  }
  return proxy;
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Creates the h1 engine of one load worker. */
export function createH1Engine(options: H1EngineOptions = {}): HttpEngine {
  const env = options.env ?? readEnv;
  const config: H1SessionConfig = {
    insecure: options.insecure ?? false,
    open: options.open ?? openTransport,
    slab: new BodySlab(),
    deadlines: new Deadlines(),
  };
  const supported = new Map<string, boolean>();

  return {
    name: "h1",
    supports(url: URL): boolean {
      const key = url.protocol + url.host;
      let ok = supported.get(key);
      if (ok === undefined) {
        ok = (url.protocol === "http:" || url.protocol === "https:") &&
          proxyFor(url, env) === undefined;
        supported.set(key, ok);
      }
      return ok;
    },
    createSession(signal: AbortSignal): HttpSession {
      return new H1Session(signal, config);
    },
  };
}
