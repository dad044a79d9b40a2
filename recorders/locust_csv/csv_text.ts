// CSV text as Python's csv.writer writes it (Locust's writer): fields quoted only when they hold
// a comma, a quote or a line break, quotes doubled, every row ended by CRLF; numbers as Python
// prints them, so a file is byte-for-byte what a Locust run of the same numbers would write.

/** A cell: text as it is, a number already formatted by {@link pythonFloat} or {@link pythonInt}. */
export type Cell = string;

/** One CSV row ending in `\r\n` (csv.writer's default line terminator). */
export function csvRow(cells: readonly Cell[]): string {
  return cells.map(csvField).join(",") + "\r\n";
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A whole number as Python prints an int (`3`); the value is rounded to the nearest. */
export function pythonInt(value: number): Cell {
  return String(Math.round(value));
}

/**
 * A number as Python prints a float (`repr`): the shortest digits that read back the same, in
 * fixed notation from 1e-4 up to 1e16 (`2.0`, `0.0001`), else with an exponent of at least two
 * digits (`1e-05`, `1.5e+16`).
 */
export function pythonFloat(value: number): Cell {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const sign = value < 0 ? "-" : "";
  const [mantissa, exponentText] = Math.abs(value).toExponential().split("e");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const e = Math.abs(exponent);
    return `${sign}${mantissa}e${exponent < 0 ? "-" : "+"}${String(e).padStart(2, "0")}`;
  }
  const digits = mantissa.replace(".", "");
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
  return `${sign}${whole}.${digits.slice(exponent + 1) || "0"}`;
}

/** A rate as Locust's history writes it (`f"{x:2f}"`: six decimals). */
export function fixedSix(value: number): Cell {
  return value.toFixed(6);
}
