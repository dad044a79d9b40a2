// A plan that reaches for what a load test has no business with: files outside its folder, the
// environment, subprocesses, hosts other than its target. Each attempt is a named check that
// passes when the runtime refused it (run under the least-privilege command line, docs/cli.md).
import { definePlan } from "../../mod.ts";

function refused(attempt: () => unknown): boolean {
  try {
    attempt();
    return false;
  } catch (error) {
    return error instanceof Deno.errors.NotCapable;
  }
}

async function refusedAsync(attempt: () => Promise<unknown>): Promise<boolean> {
  try {
    await attempt();
    return false;
  } catch (error) {
    return error instanceof Deno.errors.NotCapable ||
      (error instanceof TypeError && error.cause instanceof Deno.errors.NotCapable);
  }
}

export default definePlan({
  name: "hostile",
  users: {
    intruder: {
      tasks: {
        probe: async ({ http, check }) => {
          await http.get("/");
          check(
            "reading /etc/passwd is refused",
            refused(() => Deno.readTextFileSync("/etc/passwd")),
          );
          check("reading HOME is refused", refused(() => Deno.env.get("HOME")));
          check(
            "running a command is refused",
            refused(() => new Deno.Command("true").outputSync()),
          );
          check(
            "another host is refused",
            await refusedAsync(() => Deno.connect({ hostname: "127.0.0.2", port: 9 })),
          );
        },
      },
    },
  },
});
