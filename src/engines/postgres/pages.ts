/** Rows per page of a listing: listings read the table in pages, never whole into memory. */
export const PAGE_ROWS = 1000

/**
 * Keyset pagination: `fetch` reads the rows after `last` (the previous page's last row,
 * undefined for the first page), at most `limit` of them, in the listing's order.
 */
export async function * paged<R> (fetch: (last: R | undefined, limit: number) => Promise<R[]>): AsyncGenerator<R> {
  let last: R | undefined
  for (;;) {
    const rows = await fetch(last, PAGE_ROWS)
    yield * rows
    if (rows.length < PAGE_ROWS) return
    last = rows[rows.length - 1]
  }
}

/**
 * SQL conditions (with their parameters $1, $2) for `column` starting with `prefix`, as a
 * range on a "C"-collated column, so the primary key index serves it: column >= prefix
 * and column < the first string after every string with that prefix.
 */
export function prefixBounds (column: string, prefix: string): { where: string[], params: string[] } {
  if (prefix === '') return { where: [], params: [] }
  const end = after(prefix)
  return end === undefined
    ? { where: [`${column} >= $1`], params: [prefix] }
    : { where: [`${column} >= $1`, `${column} < $2`], params: [prefix, end] }
}

/** The smallest string above every string that starts with `prefix` (code point order), or undefined for none. */
function after (prefix: string): string | undefined {
  const points = [...prefix]
  while (points.length > 0) {
    const last = points.pop()?.codePointAt(0) ?? 0
    if (last < 0x10ffff) {
      // Surrogate code points cannot be stored as UTF-8: step over them.
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1
      return points.join('') + String.fromCodePoint(next)
    }
  }
  return undefined
}
