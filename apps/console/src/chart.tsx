/**
 * A uPlot line chart of GET /v2/aggregates: one line per series and function, hover values in the legend, legend
 * toggles, drag to zoom, and keyboard zoom and pan (+/- and the arrow keys) when the chart has focus.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import { lineStyle, type ChartData } from './chart-data.js';
import { zoneOf } from './format.js';
import { stepRange } from './query.js';

const KEY_STEPS: Record<string, 'in' | 'out' | 'left' | 'right'> = {
  '+': 'in',
  '=': 'in',
  '-': 'out',
  _: 'out',
  ArrowLeft: 'left',
  ArrowRight: 'right',
};

/** The keys the chart answers to, for the page's help text. */
export const CHART_KEYS_HELP = '+ zooms in, − zooms out, ← and → move the range by a quarter';

interface Props {
  data: ChartData;
  tz: string;
  /** The range shown [from, to), epoch ms: what the keys zoom and pan. */
  range: { from: number; to: number };
  /** Called with a new range [from, to) in epoch ms (dragged, or from the keys). */
  onZoom: (from: number, to: number) => void;
  label: string;
  /** The id of the element that explains how to use the chart. */
  describedBy?: string;
}

export function Chart({ data, tz, range, onZoom, label, describedBy }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const zoom = useRef(onZoom);
  zoom.current = onZoom;

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const zone = zoneOf(tz);
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 280),
      height: el.clientWidth < 600 ? 240 : 340,
      ...(zone ? { tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), zone) } : {}),
      cursor: { drag: { x: true, y: false, setScale: false } },
      series: [
        {},
        ...data.lines.map((line) => ({
          label: line.label,
          ...lineStyle(line.seriesIndex, line.fnIndex),
          points: { show: data.x.length < 60 },
        })),
      ],
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
      [data.x.map((ms) => ms / 1000), ...data.lines.map((line) => line.values)] as uPlot.AlignedData,
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
  }, [data, tz]);

  const onKeyDown = (event: KeyboardEvent) => {
    const step = KEY_STEPS[event.key];
    if (!step) return;
    event.preventDefault();
    const next = stepRange(range, step);
    zoom.current(next.from, next.to);
  };

  return (
    <div
      ref={host}
      class="chart"
      role="group"
      tabIndex={0}
      aria-label={label}
      aria-describedby={describedBy}
      aria-keyshortcuts="+ - ArrowLeft ArrowRight"
      onKeyDown={onKeyDown}
    />
  );
}
