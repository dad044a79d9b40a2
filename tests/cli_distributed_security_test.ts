// Who may join a distributed run: only a worker with the run's token, nothing of the plan without
// it, and over TLS only a worker that trusts the coordinator's certificate (or says --insecure).
import assert from "node:assert/strict";
import { spawnCli } from "./distributed_helpers.ts";
import {
  argv,
  freePort,
  readSummary,
  ROOT,
  runCli,
  startCountingServer,
  tempDir,
} from "./helpers.ts";

const PLAN = `${ROOT}tests/plans/distributed.plan.ts`;
const TOKEN = "t0ken-for-tests";

Deno.test("a coordinator without a token does not start", async () => {
  const { code, stderr } = await runCli(argv`${PLAN} --coordinator --expect-workers 1`, {
    env: { STAMPEDE_TOKEN: "" },
  });
  assert.equal(code, 2, stderr);
  assert.match(
    stderr,
    /stampede: error: Cannot run as coordinator without a token: set --token or STAMPEDE_TOKEN/,
  );
});

Deno.test("a worker with a wrong token or none is refused and logged; nothing of the plan is served without the token", async () => {
  const port = freePort();
  const coordinator = spawnCli(
    argv`${PLAN} --coordinator --listen 127.0.0.1:${port} --expect-workers 1 --expect-timeout 6s --token ${TOKEN} --host http://127.0.0.1:9`,
  );
  try {
    await coordinator.waitFor(/waiting for 1 worker on ws:\/\/127\.0\.0\.1:\d+/);
    const wrong = await runCli(argv`worker --connect ws://127.0.0.1:${port} --token guess`);
    assert.equal(wrong.code, 4, wrong.stderr);
    assert.match(
      wrong.stderr,
      /stampede: error: Cannot join the coordinator at ws:\/\/127\.0\.0\.1:\d+: it refused this worker's token \(HTTP 401\); give the coordinator's token with --token or STAMPEDE_TOKEN/,
    );
    const none = await runCli(argv`worker --connect ws://127.0.0.1:${port}`, {
      env: { STAMPEDE_TOKEN: "" },
    });
    assert.equal(none.code, 4, none.stderr);
    assert.match(none.stderr, /it refused a worker without a token \(HTTP 401\)/);

    // Asked over plain HTTP, by any path, without the token: a refusal and not a byte more.
    for (const path of ["/", "/plan", "/stampede"]) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      const body = await response.text();
      assert.equal(response.status, 401);
      assert.equal(body, "Cannot join: the token is missing or wrong\n");
    }
    // With the token but not as a worker (no WebSocket, no hello): still no plan.
    const asked = await fetch(`http://127.0.0.1:${port}/`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const text = await asked.text();
    assert.equal(asked.status, 426);
    assert.doesNotMatch(text, /definePlan|x-run-id|distributed/);

    const { code, stderr } = await coordinator.result;
    assert.equal(code, 4, stderr);
    assert.match(
      stderr,
      /stampede: warning: Refused a connection from 127\.0\.0\.1:\d+: its token is wrong/,
    );
    assert.match(
      stderr,
      /stampede: warning: Refused a connection from 127\.0\.0\.1:\d+: it brought no token/,
    );
    assert.match(
      stderr,
      /stampede: error: Cannot start the run: 0 of 1 workers joined within 6s; start more with stampede worker --connect ws:\/\/127\.0\.0\.1:\d+, or lower --expect-workers/,
    );
  } finally {
    try {
      coordinator.child.kill("SIGKILL");
    } catch { /* already gone */ }
    await coordinator.result;
  }
});

/** A CA and a certificate it signed for 127.0.0.1 and localhost; null where openssl is missing. */
async function makeCertificates(dir: string): Promise<boolean> {
  const openssl = async (...args: string[]) => {
    const { code, stderr } = await new Deno.Command("openssl", { args, cwd: dir, stderr: "piped" })
      .output();
    if (code !== 0) throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(stderr)}`);
  };
  try {
    await openssl("version");
  } catch {
    return false;
  }
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=Stampede test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  );
  await openssl(
    "req",
    ...ec,
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost",
  );
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  await openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  );
  return true;
}

Deno.test("with TLS on, a worker without the CA is refused unless --insecure; one with the CA joins", async () => {
  const dir = await tempDir();
  const server = startCountingServer();
  try {
    if (!await makeCertificates(dir.path)) {
      console.log("skipped: openssl is not installed (apt-get install openssl)");
      return;
    }
    const port = freePort();
    const coordinator = spawnCli(
      argv`${PLAN} --coordinator --listen 127.0.0.1:${port} --expect-workers 2 --token ${TOKEN} --tls-cert ${dir.path}/server.pem --tls-key ${dir.path}/server.key --host ${server.url} --run-time 2s --stop-timeout 2s --summary ${dir.path}/summary.json`,
    );
    await coordinator.waitFor(/waiting for 2 workers on wss:\/\/127\.0\.0\.1:\d+/);
    const url = `wss://127.0.0.1:${port}`;
    const untrusting = await runCli(argv`worker --connect ${url} --token ${TOKEN} --workers 1`);
    assert.equal(untrusting.code, 4, untrusting.stderr);
    assert.match(
      untrusting.stderr,
      /Cannot join the coordinator at wss:\/\/127\.0\.0\.1:\d+: its TLS certificate is not trusted \(invalid peer certificate: UnknownIssuer\); give its CA with --tls-ca FILE \(or DENO_CERT=FILE\), or skip the check with --insecure/,
    );
    const workers = [
      spawnCli(
        argv`worker --connect ${url} --token ${TOKEN} --workers 1 --insecure --name skipper`,
      ),
      spawnCli(
        argv`worker --connect ${url} --token ${TOKEN} --workers 1 --tls-ca ${dir.path}/ca.pem --name verifier`,
      ),
    ];
    const [result, ...workerResults] = await Promise.all([
      coordinator.result,
      ...workers.map((w) => w.result),
    ]);
    assert.equal(result.code, 0, result.stderr);
    for (const w of workerResults) assert.equal(w.code, 0, w.stderr);
    assert.match(result.stderr, /worker skipper joined/);
    assert.match(result.stderr, /worker verifier joined/);
    const summary = await readSummary(`${dir.path}/summary.json`);
    assert.ok(summary.totals.requests > 0);
    assert.equal(summary.totals.requests, server.total());
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});
