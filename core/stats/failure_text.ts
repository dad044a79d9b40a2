// Failure texts grouped the way people group them by hand: ids, numbers and hex runs that make
// every error message unique ("order 81723 not found") become placeholders, so a thousand
// orders make one failure row, not a thousand.

/** The longest failure text kept; longer ones are cut with an ellipsis. */
export const MAX_FAILURE_TEXT = 200;

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
/** Tokens of 8 or more letters and digits with at least one digit: ids, hashes, tokens. */
const ID = /\b(?=[a-z0-9_-]*\d)(?=[a-z0-9_-]*[a-z])[a-z0-9_-]{8,}\b/gi;
const HEX = /\b0x[0-9a-f]+\b/gi;
const NUMBER = /\b\d+(?:\.\d+)?/g;

/**
 * The text a plan's failure (a thrown error, `ctx.record`'s `error`) is counted under: its first
 * line, at most {@link MAX_FAILURE_TEXT} characters, with UUIDs as `<uuid>`, other ids as `<id>`
 * and numbers as `<n>`.
 */
export function normalizeFailureText(text: string): string {
  const line = text.split("\n", 1)[0];
  const normalized = line.replace(UUID, "<uuid>").replace(HEX, "<n>").replace(ID, "<id>")
    .replace(NUMBER, "<n>");
  return normalized.length > MAX_FAILURE_TEXT
    ? `${normalized.slice(0, MAX_FAILURE_TEXT - 3)}...`
    : normalized;
}
