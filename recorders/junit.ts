// JUnit XML for CI systems (`--junit PATH`): one test case per threshold, failed when it was
// crossed, and one per named check, failed when it failed; each with what it observed. The file
// is written whole at the end of the run.
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

/** One test case: passed with what was observed, or failed with why. */
function testCase(classname: string, name: string, observed: string, failure: string | null) {
  const head = `    <testcase classname="${xml(classname)}" name="${xml(name)}" time="0">`;
  if (failure === null) {
    return `${head}\n      <system-out>${xml(observed)}</system-out>\n    </testcase>`;
  }
  return `${head}\n      <failure type="${
    xml(classname === "checks" ? "check" : "threshold")
  }" message="${xml(`${name}: ${observed}`)}">${xml(failure)}</failure>\n    </testcase>`;
}

/** A `<testsuite>` of `cases` (test cases as XML), `failures` of them failed. */
function suite(
  name: string,
  cases: string[],
  failures: number,
  seconds: string,
  run: RunInfo,
  properties: string[],
): string[] {
  return [
    `  <testsuite name="${name}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${seconds}" timestamp="${
      run.startedAt.slice(0, 19)
    }" hostname="${xml(run.host)}">`,
    ...properties,
    ...cases,
    `  </testsuite>`,
  ];
}

/**
 * The JUnit XML of a finished run: a `thresholds` suite with a case per threshold, and, when the
 * plan has named checks, a `checks` suite with a case per check (failed when it failed once).
 */
export function junitXml(run: RunInfo, final: FinalSnapshot): string {
  const seconds = (final.elapsedMs / 1000).toFixed(3);
  const thresholdFailures = final.thresholds.filter((t) => !t.ok).length;
  const thresholdCases = final.thresholds.map((t) => {
    const observed = t.value === null ? "no request matched its filter" : `observed ${t.value}`;
    return testCase(
      t.metric,
      t.expression,
      observed,
      t.ok ? null : `${t.metric} ${t.expression} was crossed: ${observed}`,
    );
  });
  const checkFailures = final.checks.filter((c) => c.fails > 0).length;
  const checkCases = final.checks.map((c) => {
    const runs = c.passes + c.fails;
    const observed = `passed ${c.passes} of ${runs}`;
    return testCase(
      "checks",
      c.name,
      observed,
      c.fails === 0 ? null : `check "${c.name}" failed ${c.fails} of ${runs} times`,
    );
  });
  const tests = thresholdCases.length + checkCases.length;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="stampede ${xml(run.testplan)}" tests="${tests}" failures="${
      thresholdFailures + checkFailures
    }" errors="0" time="${seconds}">`,
    ...suite("thresholds", thresholdCases, thresholdFailures, seconds, run, [
      `    <properties>`,
      `      <property name="run_id" value="${xml(run.runId)}"/>`,
      `      <property name="stop_reason" value="${xml(final.reason)}"/>`,
      `      <property name="requests" value="${final.cumulative.total.requests}"/>`,
      `      <property name="failures" value="${final.cumulative.total.failures}"/>`,
      `    </properties>`,
    ]),
    ...(checkCases.length > 0 ? suite("checks", checkCases, checkFailures, seconds, run, []) : []),
    `</testsuites>`,
    ``,
  ].join("\n");
}

/** The `junit` recorder writing to `path`; the path is checked when the run starts. */
export function junitRecorder(path: string): RecorderPlugin {
  return {
    id: "junit",
    description: "JUnit XML with one test case per threshold and per check, written at the end",
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
