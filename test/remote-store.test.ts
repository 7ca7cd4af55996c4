import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InvalidInputError, RemoteError, RemoteStore, Store } from '../src/index.js'
import { serve } from '../src/server/index.js'
import type { RunningServer } from '../src/server/index.js'
import type { StoreFactory } from './store-suite.js'
import { storeSuite } from './store-suite.js'

const servers = new Map<RemoteStore, RunningServer>()

/** The behavioural suite again, through real HTTP on an ephemeral loopback port. */
const overHttp: StoreFactory = {
  name: 'RemoteStore over HTTP',
  open: async (options = {}) => {
    const store = await Store.open({ ...options, db: new MemoryLevel() })
    const server = await serve(store, { port: 0 })
    const remote = await RemoteStore.open(server.url)
    servers.set(remote, server)
    // Closing the client also stops its server, so the suite's cleanup covers both.
    const close = remote.close.bind(remote)
    remote.close = async () => {
      await close()
      await server.close()
    }
    return remote
  }
}
await storeSuite(overHttp)

test('a RemoteStore refuses custom strategy objects and says how to use one', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const server = await serve(store, { port: 0 })
  const remote = await RemoteStore.open(server.url)
  try {
    const custom = { name: 'sum', resolve: () => ({ value: 1 }) }
    assert.throws(() => { remote.registerStrategy(custom) }, (err: Error) => err instanceof InvalidInputError && /server process/.test(err.message))
    const err = await remote.commit('k', 1, { strategy: custom }).then(() => undefined, (e: unknown) => e)
    assert.instance(err, InvalidInputError)
  } finally {
    await server.close()
  }
})

test('a RemoteStore with the wrong token, or no server, fails with RemoteError', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const server = await serve(store, { port: 0, token: 'sesame' })
  try {
    const wrong = await RemoteStore.open({ url: server.url, token: 'guess' }).then(() => undefined, (e: unknown) => e)
    assert.instance(wrong, RemoteError)
    assert.is((wrong as RemoteError).status, 401)
    const right = await RemoteStore.open({ url: server.url, token: 'sesame' })
    assert.is((await right.commit('k', 1)).value, 1)
  } finally {
    await server.close()
  }
  const gone = await RemoteStore.open(server.url).then(() => undefined, (e: unknown) => e)
  assert.instance(gone, RemoteError)
  assert.match((gone as Error).message, /Cannot reach/)
  assert.instance(await RemoteStore.open('ftp://x').then(() => undefined, (e: unknown) => e), InvalidInputError)
})

test.run()
