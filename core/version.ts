/** Stampede's version, as `--version` prints it and every record carries it. */
export const VERSION = "0.1.0";
