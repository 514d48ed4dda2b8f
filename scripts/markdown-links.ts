// The links of a Markdown document, for `npm run check:package`. Enough of CommonMark for our own documents: inline
// links and images, reference definitions, with fenced code blocks and code spans left out.

/** One link target and the 1-based line it is on. */
export interface MarkdownLink {
  target: string;
  line: number;
}

const FENCE = /^\s{0,3}(`{3,}|~{3,})/;
const CODE_SPAN = /(`+)[^`]*?\1/g;
// `[text](target "title")`, `![alt](target)` and `[text](<target with spaces>)`.
const INLINE_LINK = /!?\[[^\]]*\]\(\s*(?:<([^>]*)>|([^)\s]+))(?:\s+"[^"]*")?\s*\)/g;
const REFERENCE_DEFINITION = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/;

/** Every link target outside code, in document order. */
export function markdownLinks(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((text, index) => {
    const opener = FENCE.exec(text)?.[1];
    if (opener !== undefined) {
      if (fence === undefined) fence = opener[0]!.repeat(opener.length);
      else if (opener.startsWith(fence)) fence = undefined;
      return;
    }
    if (fence !== undefined) return;
    const line = index + 1;
    const prose = text.replace(CODE_SPAN, '');
    const definition = REFERENCE_DEFINITION.exec(prose)?.[1];
    if (definition !== undefined) links.push({ target: definition, line });
    for (const match of prose.matchAll(INLINE_LINK)) links.push({ target: (match[1] ?? match[2])!, line });
  });
  return links;
}

/** The anchors GitHub (and npm) give the document's headings: `## Set-up commands` → `set-up-commands`. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  let fence: string | undefined;
  for (const text of markdown.split('\n')) {
    const opener = FENCE.exec(text)?.[1];
    if (opener !== undefined) {
      if (fence === undefined) fence = opener[0]!.repeat(opener.length);
      else if (opener.startsWith(fence)) fence = undefined;
      continue;
    }
    const heading = fence === undefined ? /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(text)?.[1] : undefined;
    if (heading === undefined) continue;
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    // A repeated heading gets `-1`, `-2`, … as on GitHub.
    const seen = counts.get(slug) ?? 0;
    counts.set(slug, seen + 1);
    anchors.add(seen === 0 ? slug : `${slug}-${seen}`);
  }
  return anchors;
}
