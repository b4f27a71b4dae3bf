// Charts. Time series: uPlot (small, canvas, sets element styles through the CSSOM, which the CSP
// allows). Bars: plain SVG with presentation attributes (no style attribute).
import { useEffect, useId, useRef } from 'preact/hooks';
import uPlot from 'uplot';

/** A time series; `points` are [unix seconds, value]. Its numbers are in a table for screen readers. */
export function TimeChart({ title, points, unit = '' }: { title: string; points: [number, number][]; unit?: string }) {
  const holder = useRef<HTMLDivElement>(null);
  const id = useId();
  useEffect(() => {
    const el = holder.current;
    if (!el) return;
    const data: uPlot.AlignedData = [points.map((p) => p[0]), points.map((p) => p[1])];
    const width = () => Math.max(260, el.clientWidth);
    const chart = new uPlot({
      width: width(), height: 180,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [{}, { size: 60 }],
      series: [{}, { label: title, stroke: '#0a5bc4', fill: 'rgba(10, 91, 196, 0.12)', width: 2, value: (_u, v) => (v === null ? '—' : `${v}${unit}`) }],
    }, data, el);
    const observer = new ResizeObserver(() => chart.setSize({ width: width(), height: 180 }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [points, title, unit]);
  const total = points.reduce((sum, p) => sum + p[1], 0);
  return (
    <figure class="chart" aria-labelledby={id}>
      <figcaption id={id} class="chart-title">{title} <span class="muted">(total {total.toLocaleString()}{unit})</span></figcaption>
      <div ref={holder} role="img" aria-label={`${title} over time, total ${total}`} />
    </figure>
  );
}

/** Horizontal bars, largest first. */
export function BarChart({ title, bars }: { title: string; bars: { label: string; value: number }[] }) {
  const sorted = [...bars].sort((a, b) => b.value - a.value).slice(0, 12);
  const max = Math.max(1, ...sorted.map((b) => b.value));
  const row = 22;
  const labelWidth = 160;
  const width = 520;
  const id = useId();
  if (sorted.length === 0) return <p class="muted">{title}: nothing in this period.</p>;
  return (
    <figure class="chart" aria-labelledby={id}>
      <figcaption id={id} class="chart-title">{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${sorted.length * row}`} width="100%" role="img" aria-label={sorted.map((b) => `${b.label}: ${b.value}`).join(', ')}>
        {sorted.map((b, i) => {
          const w = Math.max(1, ((width - labelWidth - 70) * b.value) / max);
          return (
            <g key={b.label} transform={`translate(0 ${i * row})`}>
              <text x="0" y="15" class="bar-label">{b.label.length > 24 ? `${b.label.slice(0, 23)}…` : b.label}</text>
              <rect x={labelWidth} y="3" width={w} height={row - 6} class="bar" />
              <text x={labelWidth + w + 4} y="15" class="bar-label">{b.value.toLocaleString()}</text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
