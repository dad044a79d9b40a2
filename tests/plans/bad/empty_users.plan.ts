import { definePlan } from "../../../mod.ts";

export default definePlan({ host: "http://127.0.0.1:9", users: {} });
