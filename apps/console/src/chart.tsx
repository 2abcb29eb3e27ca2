/** A uPlot line chart of buckets: one line per function, hover values in the legend, legend toggles, drag to zoom. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import type { Bucket, Fn } from './api.js';
import { zoneOf } from './format.js';

/**
 * Colours that differ in lightness as well as hue, and a dash pattern each, so lines stay apart in grayscale
 * and for colour-blind readers.
 */
export const FN_STYLE: Record<Fn, { stroke: string; dash?: number[]; width: number }> = {
  avg: { stroke: '#143d7a', width: 2.5 },
  min: { stroke: '#5b9bd5', dash: [8, 4], width: 2 },
  max: { stroke: '#b5451b', dash: [2, 3], width: 2 },
  sum: { stroke: '#333333', dash: [12, 3, 3, 3], width: 1.5 },
  count: { stroke: '#8c8c8c', dash: [1, 3], width: 2 },
};

/** What the chart draws, also left on window.funnelConsole.chart for tests and debugging. */
export interface ChartData {
  /** Bucket starts, epoch ms. */
  x: number[];
  series: Partial<Record<Fn, number[]>>;
}

declare global {
  interface Window {
    funnelConsole?: { chart?: ChartData };
  }
}

export function chartData(buckets: readonly Bucket[], fns: readonly Fn[]): ChartData {
  return {
    x: buckets.map((b) => Date.parse(b.start)),
    series: Object.fromEntries(fns.map((fn) => [fn, buckets.map((b) => b[fn])])),
  };
}

interface Props {
  data: ChartData;
  fns: readonly Fn[];
  tz: string;
  /** Called with the dragged range [from, to) in epoch ms. */
  onZoom: (from: number, to: number) => void;
  label: string;
}

export function Chart({ data, fns, tz, onZoom, label }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const zoom = useRef(onZoom);
  zoom.current = onZoom;

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    window.funnelConsole = { ...window.funnelConsole, chart: data };
    const zone = zoneOf(tz);
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 280),
      height: el.clientWidth < 600 ? 240 : 340,
      ...(zone ? { tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), zone) } : {}),
      cursor: { drag: { x: true, y: false, setScale: false } },
      series: [{}, ...fns.map((fn) => ({ label: fn, ...FN_STYLE[fn], points: { show: data.x.length < 60 } }))],
      axes: [{}, { size: 60 }],
      hooks: {
        setSelect: [
          (u: uPlot) => {
            if (u.select.width < 4) return;
            const from = u.posToVal(u.select.left, 'x') * 1000;
            const to = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            zoom.current(Math.floor(from), Math.ceil(to));
          },
        ],
      },
    };
    const plot = new uPlot(
      opts,
      [data.x.map((ms) => ms / 1000), ...fns.map((fn) => data.series[fn] ?? [])] as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(el.clientWidth, 280), height: opts.height }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [data, fns, tz]);

  return <div ref={host} class="chart" role="img" aria-label={label} />;
}
