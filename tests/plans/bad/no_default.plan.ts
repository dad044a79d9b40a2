import { definePlan } from "../../../mod.ts";

export const plan = definePlan({ users: { u: { tasks: { t: () => {} } } } });
