/**
 * revkv's HTTP server, a separate entry point (`revkv/server`) so that importing the
 * library does not load the HTTP framework.
 */
export { serve } from './serve.js'
export type { ListenOptions, RunningServer } from './serve.js'
export { buildServer } from './app.js'
export type { ServerOptions } from './app.js'
