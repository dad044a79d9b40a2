// examples/kubernetes/ checked against the Kubernetes API schema, offline, with kubernetes-models
// (generated from the API's OpenAPI spec): each object by its validator (types, required fields,
// enums, formats), and by TypeScript as an object literal of the model's type, whose excess-property
// check refuses any field the API does not know, at any depth. Then what ties the files together:
// names, ports, the token, the plan, and memory requests that fit what a worker process was
// measured to use.
import assert from "node:assert/strict";
import { Job } from "kubernetes-models/batch/v1/Job";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { parseAllDocuments } from "yaml";
import { loadPlanModule } from "../core/plan/plan_loader.ts";
import { ROOT, tempDir } from "./helpers.ts";

const DIR = `${ROOT}examples/kubernetes`;
const MODELS = "npm:kubernetes-models@5.1.0";

// deno-lint-ignore no-explicit-any
type KubeObject = Record<string, any>;

/** The API's model of each kind: its validator, and its module and type for TypeScript. */
const KINDS: Record<
  string,
  { model: { new (data: KubeObject): { validate(): void } }; module: string; type: string }
> = {
  "batch/v1 Job": { model: Job, module: "batch/v1/Job", type: "IJob" },
  "v1 Service": { model: Service, module: "v1/Service", type: "IService" },
  "v1 ConfigMap": { model: ConfigMap, module: "v1/ConfigMap", type: "IConfigMap" },
  "v1 Secret": { model: Secret, module: "v1/Secret", type: "ISecret" },
  "networking.k8s.io/v1 NetworkPolicy": {
    model: NetworkPolicy,
    module: "networking.k8s.io/v1/NetworkPolicy",
    type: "INetworkPolicy",
  },
};

/**
 * Type-checks `objects` as literals of their kinds' model types: the errors `deno check` gives
 * (an unknown field is "Object literal may only specify known properties"), or "" when none.
 */
async function typeErrors(objects: KubeObject[]): Promise<string> {
  const dir = await tempDir();
  try {
    const lines = objects.map((object, i) => {
      const kind = KINDS[`${object.apiVersion} ${object.kind}`];
      return `import type { ${kind.type} as T${i} } from "${MODELS}/${kind.module}";\n` +
        `export const m${i}: T${i} = ${JSON.stringify(object, null, 2)};`;
    });
    await Deno.writeTextFile(`${dir.path}/manifests.ts`, lines.join("\n"));
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "manifests.ts"],
      cwd: dir.path,
      env: { NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).output();
    return code === 0 ? "" : new TextDecoder().decode(stderr);
  } finally {
    await dir.remove();
  }
}

async function manifests(): Promise<{ file: string; object: KubeObject }[]> {
  const found: { file: string; object: KubeObject }[] = [];
  for await (const entry of Deno.readDir(DIR)) {
    if (!entry.name.endsWith(".yaml")) continue;
    const text = await Deno.readTextFile(`${DIR}/${entry.name}`);
    for (const doc of parseAllDocuments(text)) {
      assert.deepEqual(doc.errors, [], entry.name);
      found.push({ file: entry.name, object: doc.toJS() });
    }
  }
  return found;
}

const byKind = (all: { object: KubeObject }[], kind: string, name: string) => {
  const found = all.find((m) => m.object.kind === kind && m.object.metadata.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found.object;
};

/** The value after `flag` in a container's args. */
const argOf = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

/** Bytes of a Kubernetes quantity such as `192Mi`. */
function bytesOf(quantity: string): number {
  const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };
  const match = quantity.match(/^(\d+)(Ki|Mi|Gi)$/);
  assert.ok(match, quantity);
  return Number(match[1]) * units[match[2]];
}

Deno.test("every manifest is a valid object of the Kubernetes API, with no unknown field", async () => {
  const all = await manifests();
  assert.deepEqual(all.map((m) => m.object.kind).sort(), [
    "ConfigMap",
    "Job",
    "Job",
    "NetworkPolicy",
    "Secret",
    "Service",
  ]);
  for (const { file, object } of all) {
    const kind = KINDS[`${object.apiVersion} ${object.kind}`];
    assert.ok(kind, `${file}: ${object.apiVersion} ${object.kind} is not checked here`);
    assert.doesNotThrow(() => new kind.model(object).validate(), `${file}: ${object.kind}`);
  }
  assert.equal(await typeErrors(all.map((m) => m.object)), "");
});

Deno.test("the schema checks catch a misspelt field, a wrong type and a missing one", async () => {
  const job: KubeObject = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "x" },
    spec: { template: { spec: { containers: [{ name: "c", image: "i", resource: {} }] } } },
  };
  const errors = await typeErrors([job]);
  assert.match(errors, /Object literal may only specify known properties/);
  assert.match(errors, /'"resource"' does not exist in type 'IContainer'/);
  const validate = (object: KubeObject) => new KINDS["batch/v1 Job"].model(object).validate();
  assert.throws(() => validate({ ...job, spec: { ...job.spec, completions: "4" } }));
  assert.throws(() =>
    validate({ ...job, spec: { template: { spec: { containers: [{ image: "i" }] } } } })
  );
});

Deno.test("the manifests fit together: the Service, the token, the worker count, the plan, memory", async () => {
  const all = await manifests();
  const coordinatorJob = byKind(all, "Job", "stampede-coordinator");
  const workersJob = byKind(all, "Job", "stampede-workers");
  const service = byKind(all, "Service", "stampede-coordinator");
  const coordinator = coordinatorJob.spec.template.spec.containers[0];
  const worker = workersJob.spec.template.spec.containers[0];

  // The workers reach the coordinator's Service, which selects the coordinator's pod and port.
  const podLabels = coordinatorJob.spec.template.metadata.labels;
  for (const [k, v] of Object.entries(service.spec.selector)) assert.equal(podLabels[k], v);
  assert.equal(argOf(coordinator.args, "--listen"), `0.0.0.0:${service.spec.ports[0].port}`);
  assert.equal(
    argOf(worker.args, "--connect"),
    `ws://${service.metadata.name}:${service.spec.ports[0].port}`,
  );
  // As many workers as the coordinator waits for: an indexed Job of that many pods.
  assert.equal(workersJob.spec.completionMode, "Indexed");
  assert.equal(Number(argOf(coordinator.args, "--expect-workers")), workersJob.spec.completions);
  assert.equal(workersJob.spec.parallelism, workersJob.spec.completions);
  // A failed worker pod must not make Kubernetes end the others (they take over its users).
  assert.equal(workersJob.spec.backoffLimit, undefined);
  assert.equal(workersJob.spec.backoffLimitPerIndex, 0);
  assert.equal(workersJob.spec.maxFailedIndexes, workersJob.spec.completions);
  // Both get the token from the same Secret.
  const secret = byKind(all, "Secret", "stampede-token");
  for (const c of [coordinator, worker]) {
    const token = c.env.find((e: KubeObject) => e.name === "STAMPEDE_TOKEN");
    assert.equal(token.valueFrom.secretKeyRef.name, secret.metadata.name);
    assert.ok(token.valueFrom.secretKeyRef.key in secret.stringData);
  }
  // The plan is mounted into the coordinator only, and it loads as the coordinator loads it.
  const configMap = byKind(all, "ConfigMap", "stampede-plan");
  const mount = coordinator.volumeMounts.find((m: KubeObject) => m.name === "plan");
  const planFile = Object.keys(configMap.data)[0];
  assert.equal(coordinator.args[0], `${mount.mountPath}/${planFile}`);
  assert.equal(worker.volumeMounts, undefined);
  const dir = await tempDir();
  let users: number;
  try {
    await Deno.writeTextFile(`${dir.path}/${planFile}`, configMap.data[planFile]);
    const { plan } = await loadPlanModule(`file://${dir.path}/${planFile}`, "bundle");
    users = plan.load?.users ?? 0;
  } finally {
    await dir.remove();
  }
  // Memory: what a worker process was measured to take for its share of the users.
  const loadWorkers = Number(argOf(worker.args, "--workers"));
  const perPod = users / workersJob.spec.completions;
  const MB = 1e6;
  const measured = 100 * MB + 20 * MB * (loadWorkers - 1) + 24_000 * perPod;
  const request = bytesOf(worker.resources.requests.memory);
  assert.ok(request >= measured, `request ${request} < measured ${measured}`);
  assert.ok(request <= measured * 1.5, `request ${request} far above measured ${measured}`);
  assert.ok(bytesOf(worker.resources.limits.memory) >= request * 2);
  assert.equal(Number(worker.resources.requests.cpu), loadWorkers);
});
