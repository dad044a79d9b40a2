// Locust's CSV files and their columns, as Locust 2.x writes them with `--csv PREFIX`
// (locust/stats.py: StatsCSV, StatsCSVFileWriter). tests/cli_csv_test.ts compares every header
// with the files Locust itself wrote (tests/fixtures/locust_csv/) and, where Locust is installed,
// with a fresh run of it.

/** The percentiles of Locust's percentile columns (`PERCENTILES_TO_REPORT`), 0–100. */
export const LOCUST_PERCENTILES: readonly number[] = [
  50,
  66,
  75,
  80,
  90,
  95,
  98,
  99,
  99.9,
  99.99,
  100,
];

/** A percentile column's name as Locust writes it: 50 → `50%`, 99.9 → `99.9%`. */
export function percentileColumn(p: number): string {
  return `${p}%`;
}

/** `PREFIX_stats.csv`: one row per endpoint and the `Aggregated` row, over the whole run. */
export const STATS_COLUMNS: readonly string[] = [
  "Type",
  "Name",
  "Request Count",
  "Failure Count",
  "Median Response Time",
  "Average Response Time",
  "Min Response Time",
  "Max Response Time",
  "Average Content Size",
  "Requests/s",
  "Failures/s",
  ...LOCUST_PERCENTILES.map(percentileColumn),
];

/** `PREFIX_stats_history.csv`: rows appended every stats interval. */
export const HISTORY_COLUMNS: readonly string[] = [
  "Timestamp",
  "User Count",
  "Type",
  "Name",
  "Requests/s",
  "Failures/s",
  ...LOCUST_PERCENTILES.map(percentileColumn),
  "Total Request Count",
  "Total Failure Count",
  "Total Median Response Time",
  "Total Average Response Time",
  "Total Min Response Time",
  "Total Max Response Time",
  "Total Average Content Size",
];

/** `PREFIX_failures.csv`: failures by endpoint and error text. */
export const FAILURES_COLUMNS: readonly string[] = ["Method", "Name", "Error", "Occurrences"];

/** `PREFIX_exceptions.csv`: exceptions thrown by tasks (Stampede's `TASK` rows). */
export const EXCEPTIONS_COLUMNS: readonly string[] = ["Count", "Message", "Traceback", "Nodes"];

/** The suffix of each file after the prefix. */
export const CSV_FILES = {
  stats: "_stats.csv",
  history: "_stats_history.csv",
  failures: "_failures.csv",
  exceptions: "_exceptions.csv",
} as const;
