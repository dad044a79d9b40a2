// A plan whose module never finishes loading: a top-level await that never settles.
import { definePlan } from "../../../mod.ts";

await new Promise(() => {});

export default definePlan({ users: { u: { tasks: { t: () => {} } } } });
