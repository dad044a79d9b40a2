import assert from "node:assert/strict";
import { DataExhausted, PlanError } from "../errors.ts";
import { csv, json } from "../plan/data.ts";
import { loadTable, TableFeed } from "./data_table.ts";

async function withFiles(
  files: Record<string, string>,
  body: (planUrl: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    await body(`file://${dir}/shop.plan.ts`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a CSV is parsed once, quotes and all, and read from shared memory by any feed", async () => {
  await withFiles(
    { "accounts.csv": 'user,password\nann,"p,1"\n"bob ""b""",p2\n' },
    async (plan) => {
      const table = await loadTable("accounts", csv("accounts.csv"), plan);
      assert.equal(table.rows, 2);
      const feed = new TableFeed(table);
      assert.deepEqual(feed.at(0), { user: "ann", password: "p,1" });
      assert.deepEqual(feed.at(1), { user: 'bob "b"', password: "p2" });
      assert.deepEqual([feed.next(), feed.next(), feed.next()].map((r) => r.user), [
        "ann",
        'bob "b"',
        "ann",
      ]);
      assert.throws(() => feed.at(2), /Cannot read row 2 of data "accounts": it has rows 0 to 1/);
    },
  );
});

Deno.test("unique rows are never given twice across workers, then the user that asks ends", async () => {
  const rows = Array.from({ length: 1000 }, (_, i) => ({ id: i }));
  await withFiles({ "items.json": JSON.stringify(rows) }, async (plan) => {
    const table = await loadTable("items", json("items.json", { order: "unique" }), plan);
    const exhausted: string[] = [];
    // Two workers' feeds over the same shared table, as two Web Workers would have.
    const feeds = [1, 2].map(() => new TableFeed(structuredClone(table), (n) => exhausted.push(n)));
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(feeds[i % 2].next<{ id: number }>().id);
    assert.equal(seen.size, 1000);
    assert.throws(() => feeds[0].next(), (e) => e instanceof DataExhausted);
    assert.throws(() => feeds[1].next(), (e) => e instanceof DataExhausted);
    assert.deepEqual(exhausted, ["items"], "said once");
  });
});

Deno.test("a data file that is missing, empty or not an array fails as a plan error", async () => {
  await withFiles({ "empty.csv": "a,b\n", "object.json": "{}" }, async (plan) => {
    for (
      const [source, message] of [
        [csv("missing.csv"), /Cannot load data "d" from ".*missing\.csv": NotFound/],
        [csv("empty.csv"), /Cannot load data "d" from ".*empty\.csv": it has no rows/],
        [json("object.json"), /it does not hold a JSON array/],
      ] as const
    ) {
      await assert.rejects(() => loadTable("d", source, plan), (e) => {
        assert.ok(e instanceof PlanError);
        assert.match(e.message, message);
        return true;
      });
    }
  });
});
