// Between the hops of one request: the user's cookies go out on each hop, a response's
// `Set-Cookie` is kept (redirects included), and a redirect turns the request into its next hop
// as fetch does (RFC 9110 section 15.4). Nothing here runs for a user without cookies whose
// responses neither set one nor redirect.
import type { UserCookieJar } from "./cookie_jar.ts";
import type { EngineResponse } from "./engine.ts";
import type { ClientRequest } from "./prepare.ts";

/** Redirects followed before a request fails, as fetch. */
export const MAX_REDIRECTS = 20;

function setCookiesOf(raw: string[]): string[] | null {
  let found: string[] | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i] === "set-cookie") (found ??= []).push(raw[i + 1]);
  }
  return found;
}

function headerOf(raw: string[], name: string): string | null {
  for (let i = 0; i < raw.length; i += 2) if (raw[i] === name) return raw[i + 1];
  return null;
}

/** Whether `status` redirects (the statuses fetch follows). */
export function isRedirect(status: number): boolean {
  return status >= 300 && status <= 308 && status !== 304 && status !== 305 && status !== 306;
}

/** Keeps the response's cookies in `cookies`; returns where it redirects to, or null when final. */
export function redirectOf(
  request: ClientRequest,
  response: EngineResponse,
  cookies: UserCookieJar,
): URL | null {
  if (response.setsCookies) {
    const setCookies = setCookiesOf(response.rawHeaders);
    if (setCookies !== null) cookies.store(setCookies, request.url.href);
  }
  if (!isRedirect(response.status)) return null;
  const location = headerOf(response.rawHeaders, "location");
  return location === null ? null : new URL(location, request.url);
}

/** Sets the hop's headers to its own plus the user's cookies for its URL. */
export function addCookies(request: ClientRequest, cookies: UserCookieJar): void {
  const own = request.ownHeaders;
  const cookie = cookies.headerFor(request.url.href);
  if (!cookie) {
    request.headers = own;
    request.headSlot = request.ownSlot;
    return;
  }
  request.headers = { ...own, cookie: own.cookie ? `${own.cookie}; ${cookie}` : cookie };
  request.headSlot = null;
}

/** Turns `request` into the hop that follows a `status` redirect to `next`. */
export function followRedirect(request: ClientRequest, status: number, next: URL): void {
  const method = request.method;
  let headers = request.ownHeaders;
  if (
    status === 303 && method !== "GET" && method !== "HEAD" ||
    (status === 301 || status === 302) && method === "POST"
  ) {
    request.method = "GET";
    request.body = null;
    const { "content-type": _t, "content-length": _l, ...rest } = headers;
    headers = rest;
  }
  if (next.origin !== request.url.origin && headers.authorization !== undefined) {
    const { authorization: _a, ...rest } = headers;
    headers = rest;
  }
  request.ownHeaders = request.headers = headers;
  // The head slot is the first URL's.
  request.ownSlot = request.headSlot = null;
  request.url = next;
}
