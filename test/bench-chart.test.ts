import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { chartSeries, renderChart } from '../benchmarks/chart.js'
import type { ChartSeries } from '../benchmarks/chart.js'
import type { ThroughputResult } from '../benchmarks/types.js'

/** Checks that tags nest properly (a small well-formedness check: no XML parser needed). */
function assertWellFormed (svg: string): void {
  const stack: string[] = []
  for (const [, closing, name, selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    if (selfClosing === '/') continue
    if (closing === '/') assert.is(stack.pop(), name, `</${name as string}> closes the open tag`)
    else stack.push(name as string)
  }
  assert.equal(stack, [], 'every tag is closed')
}

const series: ChartSeries[] = [
  { name: 'distinct reject', points: [{ x: 1, y: 9000 }, { x: 8, y: 40000 }, { x: 64, y: 70000 }] },
  { name: 'hot <merge> & co', points: [{ x: 1, y: 8000 }, { x: 64, y: 9000 }] },
  { name: 'level put', points: [{ x: 64, y: 90000 }], dashed: true }
]

test('renderChart: valid SVG with one polyline per series', () => {
  const svg = renderChart(series, 'commits/s by writers')
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'))
  assert.ok(svg.trimEnd().endsWith('</svg>'))
  assertWellFormed(svg)
  assert.is(svg.match(/<polyline /g)?.length, series.length)
  assert.not.match(svg, /NaN|Infinity|undefined/)
  assert.match(svg, /hot &lt;merge&gt; &amp; co/, 'names are escaped')
  assert.match(svg, /stroke-dasharray/, 'baselines are dashed')
})

function result (fields: Partial<ThroughputResult>): ThroughputResult {
  return {
    kind: 'throughput', scenario: 'distinct', system: 'revkv', strategy: 'reject', writers: 1, sync: false, valueSize: 100, round: 0,
    elapsedMs: 1000, commits: 1000, commitsPerSec: 1000, reads: 0, readsPerSec: 0, latency: { p50Ms: 1, p99Ms: 2, maxMs: 3 }, readLatency: undefined,
    conflicts: 0, retries: 0, retriesPerCommit: 0, starvedWriters: 0, perWriter: { min: 0, max: 0 }, bytesOnDisk: 0, revisions: 0, bytesPerRevision: 0, peakRssBytes: 0, vsPut: undefined, verified: undefined,
    ...fields
  }
}

test('chartSeries: a series per workload and strategy, baselines dashed, sync left out, repeated runs as their median', () => {
  const made = chartSeries([
    result({ writers: 1, commitsPerSec: 100 }),
    result({ writers: 64, commitsPerSec: 300, round: 1 }),
    result({ writers: 64, commitsPerSec: 100, round: 2 }),
    result({ writers: 64, commitsPerSec: 200, round: 3 }),
    result({ scenario: 'hot', strategy: 'merge', writers: 64 }),
    result({ scenario: 'put', system: 'level', strategy: undefined, writers: 64 }),
    result({ scenario: 'put', system: 'level', strategy: undefined, writers: 64, sync: true })
  ])
  assert.equal(made.map((s) => s.name), ['distinct reject', 'hot merge', 'level put'])
  assert.equal(made[0]?.points, [{ x: 1, y: 100 }, { x: 64, y: 200 }])
  assert.is(made[2]?.dashed, true)
  assertWellFormed(renderChart(made, 't'))
})

test.run()
