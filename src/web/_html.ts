// Internal: escaping text into HTML, and the small pages the server writes
// itself (errors, redirects).
// Tests: test/unit/web/resource.test.ts, test/unit/web/channel.test.ts

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * `text` with `& < > " '` escaped as character references: safe to put in
 * HTML element content and in quoted attribute values.
 *
 * @example
 * ```ts
 * escapeHtml('<b>Tom & "Jerry"</b>'); // '&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;'
 * ```
 *
 * @since 0.1.0
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** An HTML page for an error: the code and title as heading, the detail as a paragraph. */
export function errorPageHtml(code: number, brief: string, detail: string): string {
  const title = `${code} ${escapeHtml(brief)}`;
  return `<!DOCTYPE html>\n<html>\n<head><title>${title}</title></head>\n<body>\n<h1>${title}</h1>\n<p>${escapeHtml(detail)}</p>\n</body>\n</html>\n`;
}

/** A page that links to where a redirect goes. */
export function redirectPageHtml(url: string): string {
  const href = escapeHtml(url);
  return `<!DOCTYPE html>\n<html>\n<head><meta http-equiv="refresh" content="0;URL=${href}"><title>Moved</title></head>\n<body>\n<p>This page has moved to <a href="${href}">${href}</a>.</p>\n</body>\n</html>\n`;
}
