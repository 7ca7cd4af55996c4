/**
 * revkv: a Git-like versioned key-value store. This file is the whole public surface;
 * nothing else under src/ is part of the API.
 */
export { Store } from './store.js'
export { RemoteStore } from './remote-store.js'
export type { RemoteStoreOptions } from './remote-store.js'
export type { StoreOptions, WriteOptions, MergeOptions, GetOptions, LogOptions, KeysOptions, ResolveOptions } from './store.js'
export type { Revision } from './revision.js'
export type { JsonValue, JsonObject } from './json.js'
export type { JsonPatchOperation } from './json-diff.js'
export { RevkvError, ConflictError, MergeConflictError, NotFoundError, InvalidInputError, LockedError, ClosedError, RemoteError } from './errors.js'
export type { ErrorCode, ConflictPlace } from './errors.js'
export { mergeStrategy } from './strategies/merge.js'
export type { MergeStrategy, MergeStrategyOptions } from './strategies/merge.js'
export type { Strategy, StrategyRef, ResolveContext, ResolveMode, Resolution } from './strategies/types.js'
export { mergeJson } from './json-merge.js'
export type { MergeResult, ConflictSide } from './json-merge.js'
export { diffValues } from './json-diff.js'
export { parseJsonText } from './json-text.js'
export type { RevkvDatabase } from './layout.js'
export type { ExportOptions, ImportReport } from './dump.js'
export type { VerifyOptions, VerifyProblem, VerifyReport, ProblemKind } from './verify.js'
export type { CacheOptions } from './records.js'
