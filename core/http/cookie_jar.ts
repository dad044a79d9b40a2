// A virtual user's cookie jar (`ctx.http.cookies`).
import { CookieJar } from "npm:tough-cookie@6.1.0";
import type { HttpCookies } from "./types.ts";

/**
 * One virtual user's cookie jar (RFC 6265 through tough-cookie), like a Locust HttpUser's
 * session: `Set-Cookie` from any response, redirects included, is sent back on later requests.
 * It is created on the first cookie, so users that never get one pay nothing per request.
 */
export class UserCookieJar implements HttpCookies {
  #jar: CookieJar | null = null;
  readonly #host: string;

  /** `host`: the base URL that `get()` and `set()` use when no URL is given. */
  constructor(host: string) {
    this.#host = host;
  }

  /** Whether the jar may hold a cookie; when false, requests skip it entirely. */
  get isEmpty(): boolean {
    return this.#jar === null;
  }

  /** The `Cookie` header value for a request to `url`, or "" when none applies. */
  headerFor(url: string): string {
    return this.#jar === null ? "" : this.#jar.getCookieStringSync(url);
  }

  /** Stores the `Set-Cookie` values of a response from `url`; bad ones are ignored, as browsers do. */
  store(setCookies: string[], url: string): void {
    const jar = this.#jar ??= new CookieJar();
    for (const line of setCookies) {
      try {
        jar.setCookieSync(line, url, { ignoreError: true });
      } catch {
        // A cookie the jar refuses (bad domain, bad syntax) is dropped.
      }
    }
  }

  get(url?: string): Record<string, string> {
    const out: Record<string, string> = {};
    if (this.#jar === null) return out;
    for (const cookie of this.#jar.getCookiesSync(url ?? this.#host + "/")) {
      out[cookie.key] = cookie.value;
    }
    return out;
  }

  set(setCookie: string, url?: string): void {
    const jar = this.#jar ??= new CookieJar();
    jar.setCookieSync(setCookie, url ?? this.#host + "/");
  }

  clear(): void {
    this.#jar = null;
  }
}
