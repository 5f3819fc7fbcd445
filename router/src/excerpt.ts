/**
 * `text` for an error message or a log line, cut after `max` characters: what a client or
 * publisher sent can be a megabyte long, and is copied into every error that quotes it.
 */
export function excerpt(text: string, max = 100): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}
