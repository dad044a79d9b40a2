// The OTel resource of a run: who produced the metrics and the spans. Shared by the otel
// recorder (on the coordinator) and the span sink (on each load worker), so both say the same.
import type { Attributes } from "npm:@opentelemetry/api@1.10.0";
import {
  defaultResource,
  type Resource,
  resourceFromAttributes,
} from "npm:@opentelemetry/resources@3.1.0";
import type { RunInfo } from "../../core/run_info.ts";
import type { ServiceResource } from "./config.ts";

/** The resource of a run. Run facts win over the user's attributes, tags over metadata. */
export function runResource(run: RunInfo, service: ServiceResource): Resource {
  const attributes: Attributes = {
    ...service.resourceAttributes,
    ...run.metadata,
    ...run.tags,
    "service.name": service.serviceName,
    "service.version": run.version,
    "service.instance.id": run.runId,
    "stampede.run_id": run.runId,
    "stampede.testplan": run.testplan,
    "stampede.host": run.host,
  };
  return defaultResource().merge(resourceFromAttributes(attributes));
}
