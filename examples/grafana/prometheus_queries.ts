// The PromQL pieces the Prometheus dashboard's panels share: the selectors of the runs and
// request names chosen in its variables, and the queries built on them.

/** Selects the runs chosen in the dashboard's variables. */
export const RUN = 'testplan=~"$testplan", run_id=~"$run_id"';
/** ...and the request names chosen. */
export const REQ = `${RUN}, name=~"$name"`;

/** Per-second rate of a counter, summed `by` the given labels. */
export const rate = (metric: string, by: string, selector = REQ) =>
  `sum by (${by}) (rate(${metric}{${selector}}[$__rate_interval]))`;
/** An exact percentile of the last 10 s (`quantile` as "0.95"), the largest `by` the labels. */
export const window = (quantile: string, by: string, extra = "") =>
  `max by (${by}) (stampede_window_request_duration_seconds{${RUN}, quantile="${quantile}"${extra}})`;
/** A counter's last value in the time range, per endpoint. */
export const perEndpoint = (metric: string) =>
  `sum by (method, name) (last_over_time(${metric}{${REQ}}[$__range]))`;
