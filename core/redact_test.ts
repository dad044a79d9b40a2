import assert from "node:assert/strict";
import { redactUrls } from "./redact.ts";

Deno.test("credentials in URLs are masked, the rest of the URL and text kept", () => {
  assert.equal(redactUrls("http://user:pa55@host:8080/x?q=1"), "http://user:***@host:8080/x?q=1");
  assert.equal(redactUrls("https://token@example.com/"), "https://***@example.com/");
  assert.equal(
    redactUrls('Cannot export to "http://a:b@c:4318/v1/metrics": refused'),
    'Cannot export to "http://a:***@c:4318/v1/metrics": refused',
  );
  assert.equal(
    redactUrls("http://host/path@v2 and mail me@x.org"),
    "http://host/path@v2 and mail me@x.org",
  );
  assert.equal(redactUrls("http://u:p@h http://v:q@i"), "http://u:***@h http://v:***@i");
});
