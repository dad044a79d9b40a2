// The engine conformance suite (see engine_conformance_test.ts), protocol cases on a raw socket
// server: keep-alive, closes, 1xx, chunk extensions, bodies to the close, malformed heads, resets.
import assert from "node:assert/strict";
import type { HttpEngineName } from "./engine.ts";
import {
  clientOf,
  conformingOutcome,
  ENGINES,
  outcomeOf,
  REFERENCE_ENGINE,
} from "./conformance/suite.ts";
import { ok, sleep, startRawServer, write } from "./conformance/servers.ts";

/** One GET on `engine` (and the reference) against a raw server that answers `raw`, then keeps or closes. */
async function outcomeOfCanned(engine: HttpEngineName, raw: string, then: "keep" | "close") {
  const server = startRawServer(async (_n, conn) => {
    await write(conn, raw);
    return then;
  });
  try {
    return await conformingOutcome(
      engine,
      server.url,
      async (client) => outcomeOf(client, await client.http.get("/")),
    );
  } finally {
    server.close();
  }
}

for (const engine of ENGINES) {
  Deno.test(`${engine}: conformance of protocol cases on a raw socket server`, async (t) => {
    await t.step("keep-alive: ten requests reuse one connection", async () => {
      const server = startRawServer(async (_n, conn) => {
        await write(conn, ok("kept"));
        return "keep";
      });
      try {
        const client = clientOf(engine, server.url);
        for (let i = 0; i < 10; i++) assert.equal((await client.http.get("/")).status, 200);
        client.close();
        assert.equal(server.accepted(), 1, `${engine}: connections`);
        assert.equal(server.requests(), 10);
      } finally {
        server.close();
      }
    });

    await t.step("a server closing after 3 requests (Connection: close)", async () => {
      const server = startRawServer(async (n, conn) => {
        if (n < 3) {
          await write(conn, ok(`r${n}`));
          return "keep";
        }
        await write(conn, ok(`r${n}`, "connection: close\r\n"));
        return "close";
      });
      try {
        const client = clientOf(engine, server.url);
        const bodies = [];
        for (let i = 0; i < 9; i++) {
          const res = await client.http.get("/");
          assert.equal(res.error, null, `${engine}: request ${i}`);
          bodies.push(await res.text());
        }
        client.close();
        assert.deepEqual(bodies, ["r1", "r2", "r3", "r1", "r2", "r3", "r1", "r2", "r3"]);
        assert.equal(server.accepted(), 3, `${engine}: connections`);
      } finally {
        server.close();
      }
    });

    await t.step(
      "a server closing an idle keep-alive connection: the next request reconnects",
      async () => {
        const server = startRawServer(async (_n, conn) => {
          await write(conn, ok("once"));
          // Close quietly, without Connection: close, as an idle timeout does.
          setTimeout(() => {
            try {
              conn.close();
            } catch { /* the client closed first */ }
          }, 20);
          return "keep";
        });
        try {
          await conformingOutcome(engine, server.url, async (client) => {
            const first = await client.http.get("/");
            await sleep(200); // the server's close arrives while the connection is idle
            const second = await client.http.get("/");
            assert.equal(second.error, null);
            await outcomeOf(client, first);
            return outcomeOf(client, second);
          });
        } finally {
          server.close();
        }
      },
    );

    await t.step("100 Continue before the response", async () => {
      const server = startRawServer(async (_n, conn) => {
        await write(conn, "HTTP/1.1 100 Continue\r\n\r\n" + ok("after continue"));
        return "keep";
      });
      try {
        const outcome = await conformingOutcome(
          engine,
          server.url,
          async (client) => outcomeOf(client, await client.http.get("/")),
        );
        assert.equal(outcome.body, "after continue");
      } finally {
        server.close();
      }
    });

    await t.step("a chunked body with extensions and trailers", async () => {
      const outcome = await outcomeOfCanned(
        engine,
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" +
          "5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nx-trailer: yes\r\n\r\n",
        "keep",
      );
      assert.equal(outcome.body, "hello world");
    });

    await t.step("a body without length runs to the close", async () => {
      const outcome = await outcomeOfCanned(
        engine,
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end",
        "close",
      );
      assert.equal(outcome.body, "until the end");
    });

    await t.step("a malformed status line", async () => {
      const outcome = await outcomeOfCanned(
        engine,
        "HTP/1.1 2x0 OK\r\ncontent-length: 0\r\n\r\n",
        "close",
      );
      assert.equal(outcome.error, "InvalidResponse: malformed HTTP response");
    });

    await t.step("conflicting content-length headers", async () => {
      const outcome = await outcomeOfCanned(
        engine,
        "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 5\r\n\r\nabcde",
        "close",
      );
      assert.equal(outcome.error, "InvalidResponse: malformed HTTP response");
    });

    await t.step("a connection closed mid-body", async () => {
      const outcome = await outcomeOfCanned(
        engine,
        "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part",
        "close",
      );
      assert.equal(
        outcome.error,
        "ConnectionClosed: connection closed before the response completed",
      );
    });

    await t.step(
      "a reset mid-response is a failure, not retried; the socket is replaced",
      async () => {
        let served = 0;
        const server = startRawServer(async (_n, conn, request) => {
          if (request.startsWith("GET /fine")) {
            await write(conn, ok("fine"));
            return "keep";
          }
          served++;
          await write(conn, "HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\npartial");
          // The client's unread upload is still queued: closing now sends a TCP reset.
          return "close";
        });
        try {
          const outcome = await conformingOutcome(engine, server.url, async (client) => {
            const res = await client.http.post("/reset", { body: new Uint8Array(256 * 1024) });
            const after = await client.http.get("/fine");
            assert.equal(after.status, 200, "the next request gets a new connection");
            await outcomeOf(client, after);
            return outcomeOf(client, res);
          });
          assert.equal(
            served,
            engine === REFERENCE_ENGINE ? 1 : 2,
            "one reset request per engine: never retried",
          );
          assert.equal(outcome.status, 0);
          assert.match(outcome.error ?? "", /^Connection(Reset|Closed): /);
        } finally {
          server.close();
        }
      },
    );
  });
}
