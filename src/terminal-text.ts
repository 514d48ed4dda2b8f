// C0 controls and DEL, C1 controls (ESC's 8-bit forms such as CSI U+009B), and the invisible format characters that
// reorder or hide text on a terminal (bidi embeddings, overrides and isolates, line and paragraph separators).
const LINE_BREAKS = /[\t\n\r\v\f\u2028\u2029\u0085]+/g;
// Matching control characters is this regular expression's whole purpose.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The longest text {@link sanitizeForTerminal} keeps by default; a server's message has no business being longer. */
export const MAX_TERMINAL_TEXT = 500;

/**
 * `text` from a server (an identity provider's `error_description`, a device prompt's URI or user code, a gRPC status
 * message) made safe to print: line breaks and tabs become one space, every other control character (escape
 * sequences, `\u009b`, bidi overrides) is removed, and the result is cut at `maxLength` characters with `…`.
 */
export function sanitizeForTerminal(text: string, maxLength: number = MAX_TERMINAL_TEXT): string {
  const clean = text.replace(LINE_BREAKS, ' ').replace(CONTROLS, '');
  return clean.length > maxLength ? `${clean.slice(0, maxLength)}…` : clean;
}
