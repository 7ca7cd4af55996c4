/**
 * The little of PouchDB the peer benchmark uses. PouchDB ships no types; these stand in for
 * @types/pouchdb so strict TypeScript checks the calls without a second dev dependency.
 */
declare module 'pouchdb' {
  interface PouchDocument {
    _id: string
    _rev?: string
    _revisions?: { start: number, ids: string[] }
    [member: string]: unknown
  }

  interface PouchDatabase {
    get (id: string, options?: { revs?: boolean }): Promise<PouchDocument>
    put (doc: PouchDocument): Promise<{ ok: boolean, id: string, rev: string }>
    close (): Promise<void>
  }

  const PouchDB: new (name: string, options?: { revs_limit?: number }) => PouchDatabase
  export default PouchDB
  export type { PouchDatabase, PouchDocument }
}
