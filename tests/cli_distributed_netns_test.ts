// The same run across hosts: the coordinator, two worker processes and the target each in a
// network namespace of its own, with its own address on a bridge (veth pairs), so every message
// crosses a network interface as between machines. Addresses come from 198.18.0.0/15, the range
// set aside for benchmarking (RFC 2544), and exist only inside the namespaces this test makes.
// Needs root and iproute2; where the kernel refuses, the test says so in one line and passes.
import assert from "node:assert/strict";
import { readRecords, spawnCli } from "./distributed_helpers.ts";
import { argv, readSummary, ROOT, tempDir } from "./helpers.ts";

const PLAN = `${ROOT}tests/plans/distributed.plan.ts`;
const TOKEN = "t0ken-for-tests";
const PREFIX = `stpd${Deno.pid}`;
const ROLES = {
  coordinator: "198.18.0.1",
  w1: "198.18.0.2",
  w2: "198.18.0.3",
  target: "198.18.0.4",
};

async function ip(...args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("ip", { args, stderr: "piped" }).output();
  if (code !== 0) {
    throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(stderr).trim()}`);
  }
}

/** Namespace `<prefix>-<role>` for each role, joined to a bridge in `<prefix>-hub`. */
async function makeNetwork(): Promise<void> {
  const hub = `${PREFIX}-hub`;
  await ip("netns", "add", hub);
  await ip("-n", hub, "link", "add", "br0", "type", "bridge");
  await ip("-n", hub, "link", "set", "br0", "up");
  let n = 0;
  for (const [role, address] of Object.entries(ROLES)) {
    const ns = `${PREFIX}-${role}`;
    const port = `p${n++}`;
    await ip("netns", "add", ns);
    await ip("-n", hub, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns);
    await ip("-n", hub, "link", "set", port, "master", "br0");
    await ip("-n", hub, "link", "set", port, "up");
    await ip("-n", ns, "addr", "add", `${address}/24`, "dev", "eth0");
    await ip("-n", ns, "link", "set", "eth0", "up");
    await ip("-n", ns, "link", "set", "lo", "up");
  }
}

async function removeNetwork(): Promise<void> {
  for (const role of [...Object.keys(ROLES), "hub"]) {
    await ip("netns", "del", `${PREFIX}-${role}`).catch(() => {});
  }
}

const inNamespace = (role: string) => ["ip", "netns", "exec", `${PREFIX}-${role}`];

Deno.test("across hosts (network namespaces): merged counts equal the target's; each worker's source", async () => {
  try {
    await makeNetwork();
  } catch (error) {
    await removeNetwork();
    console.log(`skipped: cannot make network namespaces here (${(error as Error).message})`);
    return;
  }
  const dir = await tempDir();
  const target = new Deno.Command("ip", {
    args: [
      ...inNamespace("target").slice(1),
      Deno.execPath(),
      "run",
      "-A",
      `${ROOT}tests/netns_target.ts`,
      ROLES.target,
      "8080",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = target.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("listening\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the target did not start");
      out += value;
    }
    const coordinator = spawnCli(
      argv`${PLAN} --coordinator --listen ${ROLES.coordinator}:7400 --expect-workers 2 --token ${TOKEN} --host http://${ROLES.target}:8080 --run-time 3s --stop-timeout 2s --recorder console,json --json-file ${dir.path}/records.jsonl --summary ${dir.path}/summary.json`,
      { prefix: inNamespace("coordinator") },
    );
    const workers = ["w1", "w2"].map((name) =>
      spawnCli(
        argv`worker --connect ws://${ROLES.coordinator}:7400 --token ${TOKEN} --workers 1 --name ${name}`,
        { prefix: inNamespace(name) },
      )
    );
    const [result, ...workerResults] = await Promise.all([
      coordinator.result,
      ...workers.map((w) => w.result),
    ]);
    assert.equal(result.code, 0, result.stderr);
    for (const w of workerResults) assert.equal(w.code, 0, w.stderr);
    // Each worker came from its own address.
    assert.match(result.stderr, /worker w1 joined from 198\.18\.0\.2:\d+/);
    assert.match(result.stderr, /worker w2 joined from 198\.18\.0\.3:\d+/);

    target.kill("SIGTERM");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const counts: Record<string, number> = JSON.parse(out.trim().split("\n").at(-1)!);
    const summary = await readSummary(`${dir.path}/summary.json`);
    const reported: Record<string, number> = {};
    for (const e of summary.endpoints) reported[`${e.method} ${e.name}`] = e.requests;
    assert.ok(summary.totals.requests > 50, `only ${summary.totals.requests} requests`);
    assert.deepEqual(reported, counts);

    const records = await readRecords(`${dir.path}/records.jsonl`);
    assert.deepEqual([...new Set(records.map((r) => r.run_id))], [summary.run_id]);
    const sources = new Set(records.map((r) => r.source));
    for (const s of ["w1", "w2", "w1/worker-1", "w2/worker-1"]) assert.ok(sources.has(s), s);
  } finally {
    try {
      target.kill("SIGKILL");
    } catch { /* already gone */ }
    await target.status;
    await target.stdout.cancel().catch(() => {});
    await removeNetwork();
    await dir.remove();
  }
});
