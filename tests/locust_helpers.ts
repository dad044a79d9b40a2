// Running Locust itself (Debian's python3-locust) headless with --csv, for the tests that compare
// Stampede's CSV files with Locust's, and for regenerating tests/fixtures/locust_csv/.
import { ROOT } from "./helpers.ts";

/** The Locust plan of the comparison (the same shapes as tests/plans/locust_csv.plan.ts). */
export const LOCUSTFILE = `${ROOT}tests/fixtures/locust_csv/locustfile.py`;

/** The `locust` command, or null when python3-locust is not installed. */
export function locustPath(): string | null {
  for (const path of ["/usr/bin/locust", "/usr/local/bin/locust"]) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not there */ }
  }
  return null;
}

/** Locust's version: Debian's package version (its `locust --version` prints none). */
export async function locustVersion(): Promise<string> {
  const { stdout } = await new Deno.Command("dpkg-query", {
    args: ["-W", "-f=${Version}", "python3-locust"],
  }).output();
  return new TextDecoder().decode(stdout).trim() || "unknown";
}

/**
 * Runs Locust headless against `host` for `seconds` with `--csv prefix`; kills it when it takes
 * three times as long. Returns its stderr (its log).
 */
export async function runLocust(host: string, prefix: string, seconds = 3): Promise<string> {
  const locust = locustPath();
  if (locust === null) {
    throw new Error("Locust is not installed: apt-get install -y python3-locust (Debian)");
  }
  const child = new Deno.Command(locust, {
    args: [
      "-f",
      LOCUSTFILE,
      "--headless",
      "--users",
      "4",
      "--spawn-rate",
      "4",
      "--run-time",
      `${seconds}s`,
      "--host",
      host,
      "--csv",
      prefix,
      "--exit-code-on-error",
      "0",
      "--only-summary",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { PYTHONDONTWRITEBYTECODE: "1" },
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), seconds * 3000 + 15_000);
  const output = await child.output();
  clearTimeout(timer);
  const log = new TextDecoder().decode(output.stderr);
  if (output.code !== 0) throw new Error(`locust exited with ${output.code}:\n${log}`);
  return log;
}

/** The target both runs use: 200 "ok" for everything but /500. */
export function locustTarget(_req: Request, url: URL): Response {
  return url.pathname === "/500" ? new Response("no", { status: 500 }) : new Response("ok");
}
