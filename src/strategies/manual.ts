import { ownStrategy } from './built-in.js'
import type { Strategy } from './types.js'

/** `manual`: a stale write is stored unmerged for a person to settle; the head does not move. */
export const manual: Strategy = ownStrategy({
  name: 'manual',
  resolve: () => ({ keep: true })
}, { base: false })
