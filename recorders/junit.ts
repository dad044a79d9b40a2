// JUnit XML for CI systems (`--junit PATH`): one test case per threshold, failed when it was
// crossed, with what it observed; the file is written whole at the end of the run.
import type { FinalSnapshot, Recorder, RecorderPlugin } from "../core/recorder/types.ts";
import type { RunInfo } from "../core/run_info.ts";
import { checkWritable, writeFileAtomic } from "../core/sink.ts";

/** Text for XML attributes and content; control characters XML 1.0 cannot hold are left out. */
function xml(text: string): string {
  let out = "";
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (code < 32 && code !== 9 && code !== 10 && code !== 13) continue;
    out += char === "&"
      ? "&amp;"
      : char === "<"
      ? "&lt;"
      : char === ">"
      ? "&gt;"
      : char === '"'
      ? "&quot;"
      : char;
  }
  return out;
}

/** The JUnit XML of a finished run: a `thresholds` suite with a case per threshold. */
export function junitXml(run: RunInfo, final: FinalSnapshot): string {
  const seconds = (final.elapsedMs / 1000).toFixed(3);
  const failures = final.thresholds.filter((t) => !t.ok).length;
  const cases = final.thresholds.map((t) => {
    const observed = t.value === null ? "no request matched its filter" : `observed ${t.value}`;
    const head = `    <testcase classname="${xml(t.metric)}" name="${xml(t.expression)}" time="0">`;
    if (t.ok) return `${head}\n      <system-out>${xml(observed)}</system-out>\n    </testcase>`;
    return `${head}\n      <failure type="threshold" message="${
      xml(`${t.expression}: ${observed}`)
    }">${xml(`${t.metric} ${t.expression} was crossed: ${observed}`)}</failure>\n    </testcase>`;
  });
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="stampede ${
      xml(run.testplan)
    }" tests="${cases.length}" failures="${failures}" errors="0" time="${seconds}">`,
    `  <testsuite name="thresholds" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${seconds}" timestamp="${
      run.startedAt.slice(0, 19)
    }" hostname="${xml(run.host)}">`,
    `    <properties>`,
    `      <property name="run_id" value="${xml(run.runId)}"/>`,
    `      <property name="stop_reason" value="${xml(final.reason)}"/>`,
    `      <property name="requests" value="${final.cumulative.total.requests}"/>`,
    `      <property name="failures" value="${final.cumulative.total.failures}"/>`,
    `    </properties>`,
    ...cases,
    `  </testsuite>`,
    `</testsuites>`,
    ``,
  ].join("\n");
}

/** The `junit` recorder writing to `path`; the path is checked when the run starts. */
export function junitRecorder(path: string): RecorderPlugin {
  return {
    id: "junit",
    description: "JUnit XML with one test case per threshold, written at the end",
    create(context): Recorder {
      checkWritable(path, "JUnit file");
      let final: FinalSnapshot | null = null;
      return {
        request: { interval: () => {}, final: (snapshot) => void (final = snapshot) },
        output: {
          stop: async () => {
            if (final) await writeFileAtomic(path, junitXml(context.run, final));
          },
        },
      };
    },
  };
}
