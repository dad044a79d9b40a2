// Secrets stay out of every output: credentials in URLs are masked wherever a URL is shown.

/** `http://user:secret@host/x` → `http://user:***@host/x`, for every URL in `text`. */
export function redactUrls(text: string): string {
  return text.replace(
    /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*):([^\s/@]*)@/gi,
    (_, scheme, user) => `${scheme}${user}:***@`,
  ).replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]+)@/gi, (_, scheme) => `${scheme}***@`);
}
