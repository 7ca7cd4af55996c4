import type { Strategy } from './types.js'

/** `reject`: a stale write is refused with a ConflictError and nothing is written. */
export const reject: Strategy = {
  name: 'reject',
  resolve: () => ({ reject: true })
}
