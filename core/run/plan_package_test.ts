import assert from "node:assert/strict";
import { DataExhausted } from "../errors.ts";
import { csv, json } from "../plan/data.ts";
import { loadTable, TableFeed } from "./data_table.ts";
import { contentHash, openPlan, sealPlan, uniqueShare } from "./plan_package.ts";

const DATA_PLAN = new URL("../../tests/plans/data_unique.plan.ts", import.meta.url).href;

Deno.test("a sealed plan opens to the same code and rows, in memory its load workers share", async () => {
  const table = await loadTable("accounts", csv("data/accounts.csv"), DATA_PLAN);
  const sealed = sealPlan("export default 1;", [table], 1, [1]);
  assert.equal(sealed.hash, contentHash(sealed.text));
  const opened = openPlan(sealed.text, sealed.hash);
  assert.equal(opened.code, "export default 1;");
  assert.equal(opened.data[0].rows, 150);
  assert.ok(opened.data[0].bytes instanceof SharedArrayBuffer);
  const local = new TableFeed(table);
  const remote = new TableFeed(opened.data[0]);
  for (const i of [0, 1, 77, 149]) assert.deepEqual(remote.at(i), local.at(i));
});

Deno.test("a plan whose text does not match its hash is refused", async () => {
  const table = await loadTable("accounts", csv("data/accounts.csv"), DATA_PLAN);
  const sealed = sealPlan("export default 1;", [table], 1, [1]);
  const tampered = sealed.text.replace("export default 1;", "export default 2;");
  assert.throws(
    () => openPlan(tampered, sealed.hash),
    /its content hash is [0-9a-f]{12}…, the coordinator sent [0-9a-f]{12}…/,
  );
});

Deno.test("unique rows are split into disjoint shares by load worker; others go whole", async () => {
  assert.deepEqual(uniqueShare(10, 3, [1]), [0, 3, 6, 9]);
  assert.deepEqual(uniqueShare(10, 3, [2, 3]), [1, 2, 4, 5, 7, 8]);
  const unique = await loadTable(
    "accounts",
    csv("data/accounts.csv", { order: "unique" }),
    DATA_PLAN,
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/items.json`, JSON.stringify([1, 2, 3, 4, 5]));
    const circular = await loadTable("items", json("items.json"), `file://${dir}/p.ts`);
    // Five load workers: process A runs 1 and 4, B runs 2 and 5, C runs 3.
    const shares = [[1, 4], [2, 5], [3]].map((mine) => {
      const { text, hash } = sealPlan("", [unique, circular], 5, mine);
      return openPlan(text, hash).data;
    });
    assert.deepEqual(shares.map(([u]) => u.rows), [60, 60, 30]);
    assert.ok(shares.every(([, c]) => c.rows === 5));
    const seen = new Set<string>();
    for (const [table] of shares) {
      const feed = new TableFeed(table);
      for (let i = 0; i < table.rows; i++) seen.add(feed.next<{ user: string }>().user);
      assert.throws(() => feed.next(), DataExhausted);
    }
    assert.equal(seen.size, 150, "every row given once across the processes");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a process whose unique share is empty ends the users that ask, as a feed run dry does", async () => {
  const unique = await loadTable(
    "accounts",
    csv("data/accounts.csv", { order: "unique" }),
    DATA_PLAN,
  );
  const { text, hash } = sealPlan("", [unique], 200, [199]);
  const [table] = openPlan(text, hash).data;
  assert.equal(table.rows, 0);
  const said: string[] = [];
  const feed = new TableFeed(table, (name) => said.push(name));
  assert.throws(() => feed.next(), DataExhausted);
  assert.deepEqual(said, ["accounts"]);
});
