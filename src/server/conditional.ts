/**
 * RFC 9110 entity tags as revkv uses them: the ETag of a key is its head revision id in
 * quotes. Weak tags (W/"...") compare by their opaque part, as RFC 9110 allows for
 * If-None-Match; If-Match uses strong comparison, so a weak tag never matches there.
 */

/** A parsed If-Match / If-None-Match header: `*`, or the listed tags. */
export type TagCondition = { any: true } | { any: false, tags: Array<{ weak: boolean, opaque: string }> }

/** The ETag header value for a revision id. */
export function etagOf (id: string): string {
  return `"${id}"`
}

/** Parse an If-Match / If-None-Match header; undefined when absent, null when malformed. */
export function parseTagCondition (header: string | string[] | undefined): TagCondition | undefined | null {
  if (header === undefined) return undefined
  const text = Array.isArray(header) ? header.join(',') : header
  if (text.trim() === '*') return { any: true }
  const tags: Array<{ weak: boolean, opaque: string }> = []
  const pattern = /\s*(W\/)?"([^"]*)"\s*(?:,|$)/gy
  let end = 0
  for (let m = pattern.exec(text); m !== null && m[0] !== ''; m = pattern.exec(text)) {
    tags.push({ weak: m[1] !== undefined, opaque: m[2] as string })
    end = pattern.lastIndex
  }
  if (tags.length === 0 || end !== text.length) return null
  return { any: false, tags }
}

/** Strong comparison (If-Match): a listed strong tag equals the id. */
export function matchesStrong (condition: TagCondition, id: string | undefined): boolean {
  if (id === undefined) return false
  return condition.any || condition.tags.some((t) => !t.weak && t.opaque === id)
}

/** Weak comparison (If-None-Match): any listed tag's opaque part equals the id. */
export function matchesWeak (condition: TagCondition, id: string | undefined): boolean {
  if (id === undefined) return false
  return condition.any || condition.tags.some((t) => t.opaque === id)
}

/** The three HTTP-date forms RFC 9110 section 5.6.7 has recipients accept (IMF-fixdate, RFC 850, asctime). */
const HTTP_DATE = [
  /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
  /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/,
  /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/
]

/** Parse an If-Modified-Since / If-Unmodified-Since header: ms since the epoch; undefined when absent, null when not an HTTP-date. */
export function parseHttpDate (header: string | string[] | undefined): number | undefined | null {
  if (header === undefined) return undefined
  // A list of dates is not a date (RFC 9110 13.1.3, 13.1.4).
  if (Array.isArray(header)) return header.length === 1 ? parseHttpDate(header[0]) : null
  const text = header.trim()
  const form = HTTP_DATE.findIndex((pattern) => pattern.test(text))
  if (form === -1) return null
  // asctime has no zone, but HTTP dates are always UTC.
  const time = Date.parse(form === 2 ? `${text} GMT` : text)
  return Number.isNaN(time) ? null : time
}
