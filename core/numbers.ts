// Number formatting shared by the summary, the records and the system samples.

/** Rounds `value` to `digits` decimal places (default 3: microseconds of a millisecond value). */
export function roundTo(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
