import { ownStrategy } from './built-in.js'
import type { Strategy } from './types.js'

/** `reject`: a stale write is refused with a ConflictError and nothing is written. */
export const reject: Strategy = ownStrategy({
  name: 'reject',
  resolve: () => ({ reject: true })
}, { base: false })
