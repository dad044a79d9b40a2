// Headless Chromium (Debian `chromium`) driven over the DevTools protocol with Deno's own
// WebSocket: open a file with networking off, collect console errors and every network request,
// evaluate a script in the page, take a screenshot. No puppeteer, nothing downloaded.
import { freePort } from "./helpers.ts";

/** What a page did while it loaded and ran. */
export interface PageLog {
  /** Console messages of level error, uncaught exceptions and browser log errors (CSP, loads). */
  errors: string[];
  /** URLs of every request the page made, its own file included. */
  requests: string[];
}

/** An open page in a headless Chromium. */
export interface ChromiumPage {
  log: PageLog;
  /** Evaluates an expression in the page and returns its value (JSON). */
  evaluate<T>(expression: string): Promise<T>;
  /** A PNG of the whole page, `width` CSS pixels wide. */
  screenshot(): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** The Chromium binary, or null when Debian's `chromium` package is not installed. */
export function chromiumPath(): string | null {
  for (const path of ["/usr/bin/chromium", "/usr/bin/chromium-browser"]) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not there */ }
  }
  return null;
}

interface Pending {
  resolve(result: Record<string, unknown>): void;
  reject(error: Error): void;
}

/** One DevTools connection: commands with ids, events by name. */
class DevTools {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners: ((method: string, params: Record<string, unknown>) => void)[] = [];
  #nextId = 1;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.id !== undefined) {
        const pending = this.#pending.get(data.id);
        this.#pending.delete(data.id);
        if (data.error) pending?.reject(new Error(`${data.error.message} (${data.error.code})`));
        else pending?.resolve(data.result ?? {});
      } else {
        for (const listener of this.#listeners) listener(data.method, data.params ?? {});
      }
    };
    socket.onclose = () => {
      for (const p of this.#pending.values()) p.reject(new Error("DevTools connection closed"));
      this.#pending.clear();
    };
  }

  static async connect(url: string): Promise<DevTools> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error(`Cannot connect to DevTools at ${url}`));
    });
    return new DevTools(socket);
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string) {
    const id = this.#nextId++;
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.send(JSON.stringify({ id, method, params, sessionId }));
    });
  }

  on(listener: (method: string, params: Record<string, unknown>) => void): void {
    this.#listeners.push(listener);
  }

  waitFor(method: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${method} did not come within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.on((name) => {
        if (name !== method) return;
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.#socket.close();
  }
}

/** Reads Chromium's stderr until it says where DevTools listens. */
async function devToolsUrl(stderr: ReadableStream<Uint8Array>, timeoutMs: number) {
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const timer = setTimeout(() => reader.cancel(), timeoutMs);
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
      if (match) {
        // Keep draining stderr so Chromium never blocks on a full pipe.
        (async () => {
          try {
            while (!(await reader.read()).done) { /* drop */ }
          } catch { /* closed */ }
        })();
        return match[1];
      }
    }
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`Chromium did not start DevTools within ${timeoutMs} ms:\n${seen}`);
}

/** Options of {@link openInChromium}. */
export interface OpenOptions {
  /** Viewport width in CSS pixels (default 1200). */
  width?: number;
  /** Everything (start, load, scripts) must be done within this (default 30 s). */
  timeoutMs?: number;
}

/**
 * Opens `url` in a fresh headless Chromium with networking off: the page is offline (DevTools'
 * network emulation), the proxy is a closed port and every host name fails to resolve.
 */
export async function openInChromium(
  url: string,
  options: OpenOptions = {},
): Promise<ChromiumPage> {
  const binary = chromiumPath();
  if (binary === null) {
    throw new Error("Chromium is not installed: apt-get install -y chromium (Debian)");
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  const profile = await Deno.makeTempDir({ prefix: "stampede-chromium-" });
  const child = spawnChromium(binary, profile);
  const killTimer = setTimeout(() => child.kill("SIGKILL"), timeoutMs * 3);
  let devtools: DevTools | null = null;
  const close = async () => {
    devtools?.close();
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    clearTimeout(killTimer);
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };
  try {
    devtools = await DevTools.connect(await devToolsUrl(child.stderr, timeoutMs));
    const tools = devtools;
    const { targetId } = await tools.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await tools.send("Target.attachToTarget", { targetId, flatten: true });
    const session = sessionId as string;
    const send = (method: string, params: Record<string, unknown> = {}) =>
      tools.send(method, params, session);
    const log: PageLog = { errors: [], requests: [] };
    tools.on((method, params) => collect(log, method, params));
    for (const domain of ["Page", "Runtime", "Log", "Network"]) await send(`${domain}.enable`);
    await send("Network.emulateNetworkConditions", {
      offline: true,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    await send("Emulation.setDeviceMetricsOverride", {
      width: options.width ?? 1200,
      height: 900,
      deviceScaleFactor: 1,
      mobile: false,
    });
    const loaded = tools.waitFor("Page.loadEventFired", timeoutMs);
    await send("Page.navigate", { url });
    await loaded;
    return pageOf(send, log, options.width ?? 1200, close);
  } catch (error) {
    await close();
    throw error;
  }
}

/** Starts headless Chromium: DevTools on a free port, a proxy that never answers, no DNS. */
function spawnChromium(binary: string, profile: string): Deno.ChildProcess {
  const closedPort = freePort(); // nothing listens there: a proxy that never answers
  return new Deno.Command(binary, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
      `--proxy-server=http://127.0.0.1:${closedPort}`,
      "--host-resolver-rules=MAP * ~NOTFOUND",
      "--remote-debugging-address=127.0.0.1",
      "--remote-debugging-port=0",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

/** The page's handle over its DevTools session: its log, scripts, screenshots and close. */
function pageOf(
  send: (method: string, params?: Record<string, unknown>) => Promise<Record<string, unknown>>,
  log: PageLog,
  width: number,
  close: () => Promise<void>,
): ChromiumPage {
  return {
    log,
    async evaluate<T>(expression: string): Promise<T> {
      const { result, exceptionDetails } = await send("Runtime.evaluate", {
        expression,
        returnByValue: true,
        awaitPromise: true,
      }) as { result: { value: T }; exceptionDetails?: { text: string } };
      if (exceptionDetails) throw new Error(`in the page: ${JSON.stringify(exceptionDetails)}`);
      return result.value;
    },
    async screenshot(): Promise<Uint8Array> {
      const metrics = await send("Page.getLayoutMetrics") as {
        cssContentSize: { width: number; height: number };
      };
      const { data } = await send("Page.captureScreenshot", {
        format: "png",
        captureBeyondViewport: true,
        clip: {
          x: 0,
          y: 0,
          width,
          height: Math.ceil(metrics.cssContentSize.height),
          scale: 1,
        },
      });
      return Uint8Array.from(atob(data as string), (c) => c.charCodeAt(0));
    },
    close,
  };
}

function collect(log: PageLog, method: string, params: Record<string, unknown>): void {
  switch (method) {
    case "Runtime.consoleAPICalled": {
      if (params.type !== "error" && params.type !== "assert") return;
      const args = params.args as { value?: unknown; description?: string }[];
      log.errors.push(
        `console.${params.type}: ${args.map((a) => a.value ?? a.description).join(" ")}`,
      );
      return;
    }
    case "Runtime.exceptionThrown":
      log.errors.push(`uncaught: ${JSON.stringify(params.exceptionDetails)}`);
      return;
    case "Log.entryAdded": {
      const entry = params.entry as { level: string; source: string; text: string };
      if (entry.level === "error") log.errors.push(`${entry.source}: ${entry.text}`);
      return;
    }
    case "Network.requestWillBeSent":
      log.requests.push((params.request as { url: string }).url);
      return;
  }
}
