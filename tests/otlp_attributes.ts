// OTLP attribute lists (KeyValue with an AnyValue) as plain records, for the test receivers of
// metrics (otlp_receiver.ts) and traces (otlp_traces.ts).

/** A decoded attribute value: what tests compare against. */
export type AttributeValue = string | number | boolean | null;

/** A message as protobufjs's toObject or JSON.parse gives it. */
// deno-lint-ignore no-explicit-any
export type Plain = any;

function anyValue(v: Plain): AttributeValue {
  if (!v) return null;
  if (v.stringValue !== undefined && v.stringValue !== null) return v.stringValue;
  if (v.intValue !== undefined && v.intValue !== null) return Number(v.intValue);
  if (v.doubleValue !== undefined && v.doubleValue !== null) return Number(v.doubleValue);
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue;
  return null;
}

/** An OTLP attribute list as a record of its keys' values. */
export function attributes(list: Plain[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of list ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}
