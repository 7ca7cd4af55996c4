/**
 * Lone UTF-16 surrogates through the entry points that are not the library's methods: the
 * CLI (values, dumps) and the HTTP API (paths, bodies). Each is refused as bad input, and
 * nothing is written. The Store and RemoteStore methods are covered by the store suite.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'
import { sealRevision } from '../src/revision.js'
import { serve } from '../src/server/index.js'
import { cleanUp, fails, json, revkv, withEmptyStore } from './cli-run.js'
import { all } from './helpers.js'

test.after(cleanUp)

test('the CLI refuses a value or a dump holding a lone surrogate (exit 2), and writes nothing', async () => {
  const dir = await withEmptyStore()
  const value = fails(await revkv(dir, ['commit', 'k', '{"name":"a\\ud800"}']), 2)
  assert.match(value, /\/name contains a lone UTF-16 surrogate/)
  // A dump made by a revkv that accepted such keys: its hash is right, its key is not storable.
  const rev = sealRevision({ key: '\ud800', parents: [], height: 1, time: 1 }, '1').revision
  const dump = join(dir, 'dump.ndjson')
  writeFileSync(dump, [
    JSON.stringify({ revkv: 'dump', format: 1 }),
    JSON.stringify({ revision: rev }),
    JSON.stringify({ head: { key: rev.key, head: rev.id } }),
    JSON.stringify({ end: { revisions: 1, heads: 1 } })
  ].join('\n') + '\n')
  const imported = fails(await revkv(dir, ['import', dump]), 2)
  assert.match(imported, /line 2: Key "\\ud800" contains a lone UTF-16 surrogate/)
  assert.equal(json(await revkv(dir, ['--json', 'keys'])), [])
})

test('the HTTP API answers 400 problem+json to a lone surrogate in a path or a body, and writes nothing', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const server = await serve(store, { port: 0 })
  try {
    const put = async (path: string, body: string): Promise<{ status: number, code: unknown }> => {
      const response = await fetch(server.url + path, { method: 'PUT', headers: { 'content-type': 'application/json' }, body })
      return { status: response.status, code: ((await response.json()) as { code?: unknown }).code }
    }
    // %ED%A0%80 is how a lone U+D800 would be percent-encoded (as its invalid UTF-8 bytes).
    assert.equal(await put('/v1/keys/%ED%A0%80', '1'), { status: 400, code: 'REVKV_INVALID' })
    assert.equal(await put('/v1/keys/k', '{"a":["\\udc00"]}'), { status: 400, code: 'REVKV_INVALID' })
    assert.equal(await put('/v1/keys/k', '{"\\ud800":1}'), { status: 400, code: 'REVKV_INVALID' })
    assert.equal(await all(store.keys()), [])
  } finally {
    await server.close()
  }
})

test.run()
