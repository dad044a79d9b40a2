// The console's live view in a real terminal: the CLI runs inside a tmux pane (Debian `tmux`),
// and the pane, captured while the run goes and after it, shows the progress bar with the
// elapsed and remaining time and the stage, and each warning (the console's own overload warning
// and one from the log) on a line of its own, never glued to the live line.
import assert from "node:assert/strict";
import { ROOT, startCountingServer } from "./helpers.ts";

const PLAN = `${ROOT}tests/plans/console_live.plan.ts`;
const CLI = `${ROOT}cli.ts`;

function tmuxPath(): string | null {
  for (const path of ["/usr/bin/tmux", "/usr/local/bin/tmux"]) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not there */ }
  }
  return null;
}

async function tmux(socket: string, ...args: string[]): Promise<string> {
  const output = await new Deno.Command(tmuxPath()!, { args: ["-L", socket, ...args] }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(`tmux ${args[0]} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  return text;
}

/** Single-quotes a word for sh. */
const sh = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

const LIVE =
  /^\[█*░*\] \d+% \d+s \/ 8s, \d+s left · stage [12] → 2 users \| users \d+ \| [\d.]+ req\/s/;
const OVERLOAD = /^stampede: warning: worker-1 is overloaded: its event loop runs [\d.]+ ms late/;
const NAMES = /^stampede: warning: More than 1 distinct request names for GET/;

Deno.test("in tmux: a progress bar with the stage, and warnings on their own lines", async () => {
  assert.ok(tmuxPath(), "tmux is not installed: apt-get install -y tmux (Debian)");
  const server = startCountingServer();
  const socket = `stampede-test-${Deno.pid}`;
  try {
    const command = [
      sh(Deno.execPath()),
      "run -A",
      sh(CLI),
      sh(PLAN),
      `--host ${server.url} --workers 1 --stages 3s:2,5s:2 --run-time 8s --max-names 1`,
      "; echo EXIT=$?; sleep 60",
    ].join(" ");
    await tmux(
      socket,
      "-f",
      "/dev/null",
      "new-session",
      "-d",
      "-x",
      "200",
      "-y",
      "50",
      "-s",
      "run",
      command,
    );
    const capture = async () =>
      (await tmux(socket, "capture-pane", "-p", "-t", "run", "-S", "-200")).split("\n");

    // While the run goes: the live line at the bottom, both warnings above it, each alone.
    let during: string[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      during = await capture();
      if (during.some((l) => l.startsWith("EXIT="))) break;
      if (during.some((l) => OVERLOAD.test(l)) && during.some((l) => LIVE.test(l))) break;
    }
    const shown = during.filter((l) => l.trim() !== "").join("\n");
    assert.ok(during.some((l) => LIVE.test(l)), `no progress bar in the pane:\n${shown}`);
    assert.ok(during.some((l) => OVERLOAD.test(l)), `no overload warning in the pane:\n${shown}`);
    assert.ok(during.some((l) => NAMES.test(l)), `no log warning in the pane:\n${shown}`);
    const live = during.filter((l) => l.includes("req/s"));
    assert.equal(live.length, 1, `one live line, redrawn in place:\n${shown}`);
    assert.ok(
      LIVE.test(live[0]) && during.indexOf(live[0]) > during.findIndex((l) => OVERLOAD.test(l)),
    );
    for (const line of during.filter((l) => l.includes("stampede: warning"))) {
      assert.ok(line.startsWith("stampede: warning:") && !/█|░|req\/s/.test(line), line);
    }

    // After it: the final tables, the warnings still each on their own line, no live line left.
    let after: string[] = [];
    while (Date.now() < deadline + 15_000) {
      after = await capture();
      if (after.some((l) => l.startsWith("EXIT="))) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const text = after.join("\n");
    assert.match(text, /^EXIT=0$/m, text);
    assert.match(text, /^\s+Aggregated\s+\d+/m);
    assert.match(text, /^The load generator was overloaded \(worker-1\)/m);
    assert.ok(!after.some((l) => LIVE.test(l)), `the live line was cleared:\n${text}`);
    for (const line of after.filter((l) => l.includes("stampede: warning"))) {
      assert.ok(line.startsWith("stampede: warning:") && !/█|░|req\/s/.test(line), line);
    }
  } finally {
    await tmux(socket, "kill-server").catch(() => {});
    await server.shutdown();
  }
});
