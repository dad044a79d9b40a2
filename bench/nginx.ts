// nginx as the benchmarks' target: one worker process pinned to core 0, keep-alive, a 13-byte
// body, no access log; /nginx_status (stub_status) counts the requests it handled.
import { freePort } from "../tests/helpers.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Requests nginx has handled so far (stub_status), this one included. */
export async function nginxRequests(url: string): Promise<number> {
  const text = await (await fetch(new URL("/nginx_status", url))).text();
  return Number(text.split("\n")[2].trim().split(/\s+/)[2]);
}

export async function startNginx(tmp: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = freePort();
  await Deno.mkdir(`${tmp}/nginx/logs`, { recursive: true });
  const conf = `${tmp}/nginx/nginx.conf`;
  await Deno.writeTextFile(
    conf,
    `worker_processes 1;
worker_rlimit_nofile 30000;
pid ${tmp}/nginx/nginx.pid;
error_log ${tmp}/nginx/logs/error.log warn;
events { worker_connections 25000; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path ${tmp}/nginx/body;
  proxy_temp_path ${tmp}/nginx/proxy;
  fastcgi_temp_path ${tmp}/nginx/fastcgi;
  uwsgi_temp_path ${tmp}/nginx/uwsgi;
  scgi_temp_path ${tmp}/nginx/scgi;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / { default_type text/plain; return 200 "hello, world\\n"; }
    location = /nginx_status { stub_status; }
  }
}
`,
  );
  const child = new Deno.Command("taskset", {
    args: ["-c", "0", "nginx", "-c", conf, "-p", `${tmp}/nginx`, "-g", "daemon off;"],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 50; i++) {
    try {
      await (await fetch(url)).arrayBuffer();
      return {
        url,
        stop: async () => {
          child.kill("SIGQUIT");
          await child.output();
        },
      };
    } catch {
      await sleep(100);
    }
  }
  throw new Error("nginx did not start");
}
