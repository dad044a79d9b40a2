// deno-lint-ignore-file
// deno-fmt-ignore-file
import { definePlan } from "../../../mod.ts";
export default definePlan({ users: { u: { tasks: { t: () => { } } } }
