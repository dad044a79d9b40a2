// The response a task gets from `ctx.http`: status, failure text and timing are set when the
// exchange is recorded; headers and the body are decoded only when the task reads them.
import type { EngineRequest, EngineResponse } from "./engine.ts";
import type { HttpResponse } from "./types.ts";

const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();

function headersOf(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  return headers;
}

/** A {@link HttpResponse} over what the engine returned (null when there was no response). */
export class ClientResponse implements HttpResponse {
  #headers: Headers | null = null;
  #body: Uint8Array | null | undefined = undefined;
  readonly #request: EngineRequest;
  #error: string | null;
  constructor(
    readonly status: number,
    error: string | null,
    /** The request, at its last hop: its URL is the response's (read only when asked for). */
    request: EngineRequest,
    readonly durationMs: number,
    /** What the engine returned; null when there was no response. */
    readonly response: EngineResponse | null,
  ) {
    this.#request = request;
    this.#error = error;
  }
  get error(): string | null {
    return this.#error;
  }
  /** Marks a response its request's check failed (the client records it so). */
  failCheck(text: string): void {
    this.#error ??= text;
  }
  get url(): string {
    return this.#request.url.href;
  }
  get ok(): boolean {
    return this.#error === null;
  }
  get statusText(): string {
    return this.response?.statusText ?? "";
  }
  get headers(): Headers {
    return this.#headers ??= headersOf(this.response?.rawHeaders ?? []);
  }
  bytes(): Promise<Uint8Array> {
    if (this.#body === undefined) {
      try {
        this.#body = this.response === null ? EMPTY : this.response.body();
      } catch (cause) {
        return Promise.reject(
          new Error(`Cannot decode the body of ${this.url}: ${(cause as Error).message}`, {
            cause,
          }),
        );
      }
    }
    if (this.#body === null) {
      return Promise.reject(
        new Error(`Cannot read the body of ${this.url}: the request had discardBody set`),
      );
    }
    return Promise.resolve(this.#body);
  }
  text(): Promise<string> {
    return this.bytes().then((b) => decoder.decode(b));
  }
  json<T>(): Promise<T> {
    return this.text().then((t) => JSON.parse(t) as T);
  }
}
