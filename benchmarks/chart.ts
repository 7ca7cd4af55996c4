import { displayName } from './report.js'
import { medianRuns } from './targets.js'
import type { ThroughputResult } from './types.js'

/** One line of the chart: a strategy's (or a baseline's) commits/s at each writer count. */
export interface ChartSeries {
  name: string
  points: Array<{ x: number, y: number }>
  /** Baselines are drawn dashed, so they read as reference lines. */
  dashed?: boolean
}

const WIDTH = 860
const HEIGHT = 500
const PLOT = { left: 80, top: 60, right: 620, bottom: 440 }
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22']

function escapeXml (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** 1200 -> "1.2k", 3400000 -> "3.4M". */
function compact (n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toPrecision(3)}M`
  if (n >= 1e3) return `${+(n / 1e3).toPrecision(3)}k`
  return `${+n.toPrecision(3)}`
}

/**
 * Series for the chart from a run's results: each revkv workload and strategy without
 * sync, and the raw LevelDB baselines, one point per writer count (median of repeated runs).
 */
export function chartSeries (results: ThroughputResult[]): ChartSeries[] {
  const byName = new Map<string, ChartSeries>()
  for (const r of medianRuns(results)) {
    if (r.sync || r.commitsPerSec <= 0) continue
    const name = `${displayName(r)} ${r.strategy ?? ''}`.trim()
    let series = byName.get(name)
    if (series === undefined) byName.set(name, series = { name, points: [], dashed: r.system !== 'revkv' })
    series.points.push({ x: r.writers, y: r.commitsPerSec })
  }
  for (const series of byName.values()) series.points.sort((a, b) => a.x - b.x)
  return [...byName.values()]
}

/**
 * An SVG line chart of commits/s (log scale) against writers (log scale): one polyline
 * per series, a marker at every point (so a one-point series still shows), axes and a legend.
 */
export function renderChart (series: ChartSeries[], title: string): string {
  const points = series.flatMap((s) => s.points).filter((p) => p.x > 0 && p.y > 0)
  const xs = [...new Set(points.map((p) => p.x))].sort((a, b) => a - b)
  const xMin = Math.log2(xs[0] ?? 1)
  const xMax = Math.max(Math.log2(xs[xs.length - 1] ?? 2), xMin + 1)
  const ys = points.map((p) => p.y)
  const yMin = Math.floor(Math.log10(ys.length === 0 ? 10 : Math.min(...ys)))
  const yMax = Math.max(Math.ceil(Math.log10(ys.length === 0 ? 100 : Math.max(...ys))), yMin + 1)
  const px = (x: number): number => PLOT.left + (Math.log2(x) - xMin) / (xMax - xMin) * (PLOT.right - PLOT.left)
  const py = (y: number): number => PLOT.bottom - (Math.log10(y) - yMin) / Math.max(1, yMax - yMin) * (PLOT.bottom - PLOT.top)
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`)
  out.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`)
  out.push(`<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16">${escapeXml(title)}</text>`)
  out.push(`<text x="${WIDTH / 2}" y="42" text-anchor="middle" fill="#555555">dashed: raw LevelDB baselines (unversioned); solid: revkv workloads by strategy</text>`)
  // Grid and tick labels: a line per power of ten, a line per writer count measured.
  for (let e = yMin; e <= yMax; e++) {
    const y = py(10 ** e).toFixed(1)
    out.push(`<line x1="${PLOT.left}" y1="${y}" x2="${PLOT.right}" y2="${y}" stroke="#e0e0e0"/>`)
    out.push(`<text x="${PLOT.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${compact(10 ** e)}</text>`)
  }
  for (const x of xs) {
    const xPos = px(x).toFixed(1)
    out.push(`<line x1="${xPos}" y1="${PLOT.top}" x2="${xPos}" y2="${PLOT.bottom}" stroke="#e0e0e0"/>`)
    out.push(`<text x="${xPos}" y="${PLOT.bottom + 18}" text-anchor="middle">${x}</text>`)
  }
  out.push(`<line x1="${PLOT.left}" y1="${PLOT.bottom}" x2="${PLOT.right}" y2="${PLOT.bottom}" stroke="#000000"/>`)
  out.push(`<line x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.left}" y2="${PLOT.bottom}" stroke="#000000"/>`)
  out.push(`<text x="${(PLOT.left + PLOT.right) / 2}" y="${PLOT.bottom + 42}" text-anchor="middle">concurrent writers</text>`)
  out.push(`<text x="20" y="${(PLOT.top + PLOT.bottom) / 2}" text-anchor="middle" transform="rotate(-90 20 ${(PLOT.top + PLOT.bottom) / 2})">commits/s (log scale)</text>`)
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] as string
    const coords = s.points.filter((p) => p.x > 0 && p.y > 0).map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`)
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : ''
    out.push(`<g><title>${escapeXml(s.name)}</title>`)
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${coords.join(' ')}"/>`)
    for (const c of coords) {
      const [cx, cy] = c.split(',')
      out.push(`<circle cx="${cx}" cy="${cy}" r="3.5" fill="${color}"/>`)
    }
    out.push('</g>')
    const ly = PLOT.top + 8 + i * 20
    out.push(`<line x1="${PLOT.right + 20}" y1="${ly}" x2="${PLOT.right + 50}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`)
    out.push(`<text x="${PLOT.right + 58}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}
