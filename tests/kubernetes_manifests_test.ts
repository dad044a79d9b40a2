// examples/kubernetes/ checked against the Kubernetes API schema, offline: every object by
// kubernetes-models (types, required fields, enums, formats of the API's OpenAPI schema), and no
// field the API does not know, at any depth (the attribute maps of @kubernetes/client-node, made
// from the API's OpenAPI spec). Then what ties the files together: names, ports, the token, the
// plan, and memory requests that fit what a worker process was measured to use.
import assert from "node:assert/strict";
import * as clientModels from "@kubernetes/client-node/dist/gen/models/all.js";
import { Job } from "kubernetes-models/batch/v1/Job";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { parseAllDocuments } from "yaml";
import { loadPlanModule } from "../core/plan/plan_loader.ts";
import { ROOT, tempDir } from "./helpers.ts";

const DIR = `${ROOT}examples/kubernetes`;

// deno-lint-ignore no-explicit-any
type KubeObject = Record<string, any>;

/** The API's models by kind, and the client library's model type of each. */
const KINDS: Record<
  string,
  { model: { new (data: KubeObject): { validate(): void } }; type: string }
> = {
  "batch/v1 Job": { model: Job, type: "V1Job" },
  "v1 Service": { model: Service, type: "V1Service" },
  "v1 ConfigMap": { model: ConfigMap, type: "V1ConfigMap" },
  "v1 Secret": { model: Secret, type: "V1Secret" },
  "networking.k8s.io/v1 NetworkPolicy": { model: NetworkPolicy, type: "V1NetworkPolicy" },
};

type Attribute = { baseName: string; type: string };
const models = clientModels as unknown as Record<
  string,
  { getAttributeTypeMap?: () => Attribute[] }
>;

/** Fields the API does not know in `value` of model `type`, as paths (`spec.template.foo`). */
function unknownFields(value: unknown, type: string, path = ""): string[] {
  const array = type.match(/^Array<(.+)>$/);
  if (array) {
    if (!Array.isArray(value)) return [];
    return value.flatMap((item, i) => unknownFields(item, array[1], `${path}[${i}]`));
  }
  const map = type.match(/^\{ \[key: string\]: (.+); \}$/);
  if (map) {
    if (typeof value !== "object" || value === null) return [];
    return Object.entries(value).flatMap(([k, v]) => unknownFields(v, map[1], `${path}.${k}`));
  }
  const attributes = models[type]?.getAttributeTypeMap?.();
  if (!attributes || typeof value !== "object" || value === null) return [];
  const known = new Map(attributes.map((a) => [a.baseName, a.type]));
  return Object.entries(value).flatMap(([key, v]) => {
    const at = path ? `${path}.${key}` : key;
    const fieldType = known.get(key);
    return fieldType === undefined ? [at] : unknownFields(v, fieldType, at);
  });
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
    assert.deepEqual(unknownFields(object, kind.type), [], `${file}: ${object.kind}`);
  }
});

Deno.test("the schema checks catch a misspelt field, a wrong type and a missing one", () => {
  const job: KubeObject = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "x" },
    spec: { template: { spec: { containers: [{ name: "c", image: "i", resource: {} }] } } },
  };
  const validate = (object: KubeObject) => new KINDS["batch/v1 Job"].model(object).validate();
  assert.deepEqual(unknownFields(job, "V1Job"), ["spec.template.spec.containers[0].resource"]);
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
