// Bad prometheus recorder options fail before the first request, with exit code 2 and a message
// that names the input, from a flag or from its environment variable.
import assert from "node:assert/strict";
import { argv, runCli } from "./helpers.ts";
import { SHOP_PLAN, startShopServer } from "./prometheus_helpers.ts";

const cases: { what: string; args: string[]; env?: Record<string, string>; message: RegExp }[] = [
  {
    what: "a linger longer than ten minutes",
    args: ["--prometheus-linger", "11m"],
    message: /Cannot use --prometheus-linger "11m": at most 10m/,
  },
  {
    what: "buckets out of order",
    args: ["--prometheus-buckets", "0.5,0.1"],
    message: /Cannot use --prometheus-buckets "0.5,0.1": expected ascending numbers/,
  },
  {
    what: "an unknown compatibility set",
    args: ["--prometheus-compat", "graphite"],
    message: /Cannot use --prometheus-compat "graphite": expected none or locust/,
  },
  {
    what: "a listen address without a port, from the environment",
    args: [],
    env: { STAMPEDE_PROMETHEUS_LISTEN: "localhost" },
    message: /Cannot use --prometheus-listen "localhost": expected host:port/,
  },
];

for (const c of cases) {
  Deno.test(`prometheus recorder: ${c.what} fails with exit code 2 before any request`, async () => {
    const server = startShopServer();
    try {
      const result = await runCli(
        [
          SHOP_PLAN,
          "--host",
          server.url,
          "--run-time",
          "2s",
          "--recorder",
          "prometheus",
          ...c.args,
        ],
        { env: c.env },
      );
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, c.message);
      assert.equal(server.total(), 0);
    } finally {
      await server.shutdown();
    }
  });
}

Deno.test("prometheus recorder: a listen address in use fails with exit code 2 before any request", async () => {
  const server = startShopServer();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  try {
    const result = await runCli(
      argv`${SHOP_PLAN} --host ${server.url} --run-time 2s --recorder prometheus --prometheus-listen 127.0.0.1:${port}`,
    );
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `Cannot listen on "127\\.0\\.0\\.1:${port}" for the prometheus recorder: the address is in use`,
      ),
    );
    assert.equal(server.total(), 0);
  } finally {
    taken.close();
    await server.shutdown();
  }
});
