/**
 * `extensions.valueCompletion`: Apollo's executor notes there why a field came back null
 * (a subgraph's value did not fit the API schema). Notes about fields the router itself
 * removed or added are not the client's to read.
 */

/** What a note carries that we read. */
interface ValueCompletionNote {
  readonly path?: readonly (string | number)[];
}

/**
 * `extensions` less the `valueCompletion` notes whose path `drop` says so of;
 * `undefined` when nothing is left.
 */
export function withoutValueCompletionNotes(
  extensions: Readonly<Record<string, unknown>> | undefined,
  drop: (path: readonly (string | number)[]) => boolean,
): Record<string, unknown> | undefined {
  const notes = extensions?.['valueCompletion'];
  if (!extensions || !Array.isArray(notes)) return extensions;
  const kept = (notes as ValueCompletionNote[]).filter((note) => !drop(note.path ?? []));
  const { valueCompletion: _, ...rest } = extensions;
  const result = kept.length > 0 ? { ...rest, valueCompletion: kept } : rest;
  return Object.keys(result).length > 0 ? result : undefined;
}
