/** Parses a JSON column written by us; a corrupt value is a bug, so it throws. */
export function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}
