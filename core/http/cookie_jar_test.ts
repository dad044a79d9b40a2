import assert from "node:assert/strict";
import { UserCookieJar } from "./cookie_jar.ts";

Deno.test("a user's jar keeps cookies by domain and path and sends them back", () => {
  const jar = new UserCookieJar("http://127.0.0.1:8000");
  assert.equal(jar.isEmpty, true);
  assert.equal(jar.headerFor("http://127.0.0.1:8000/"), "");
  jar.store(
    ["sid=1; Path=/", "cart=2; Path=/shop", "bad; =; Domain=example.com"],
    "http://127.0.0.1:8000/login",
  );
  assert.equal(jar.isEmpty, false);
  assert.equal(jar.headerFor("http://127.0.0.1:8000/"), "sid=1");
  assert.equal(jar.headerFor("http://127.0.0.1:8000/shop/x"), "cart=2; sid=1");
  assert.equal(jar.headerFor("http://other.test/"), "");
  assert.deepEqual(jar.get(), { sid: "1" });
  assert.deepEqual(jar.get("http://127.0.0.1:8000/shop"), { cart: "2", sid: "1" });
});

Deno.test("expired cookies are dropped; clear() forgets everything; set() adds one", () => {
  const jar = new UserCookieJar("http://127.0.0.1:8000");
  jar.store(["a=1; Path=/"], "http://127.0.0.1:8000/");
  jar.store(["a=gone; Path=/; Max-Age=0"], "http://127.0.0.1:8000/");
  assert.deepEqual(jar.get(), {});
  jar.set("theme=dark; Path=/");
  assert.deepEqual(jar.get(), { theme: "dark" });
  jar.clear();
  assert.equal(jar.isEmpty, true);
  assert.deepEqual(jar.get(), {});
});
