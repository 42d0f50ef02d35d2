import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  label: string;
  values: Array<number | null>;
}

/** Bars for categories (uPlot ships the path builder; nothing is drawn by hand). */
const bars = uPlot.paths.bars?.({ size: [0.7, 80] });

const palette = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];

/**
 * A time-series chart (uPlot): `times` in seconds since the epoch, one line per series, its labels
 * in the legend (set as text: names users chose never become markup). Redrawn when the data change.
 * With `categories` the x axis names them instead of times (`times` are then their indexes) and
 * each series is drawn as bars: one chart component for both, so they look and resize alike.
 */
export function TimeChart(props: {
  title: string;
  times: number[];
  series: Series[];
  unit?: string;
  /** The time axis, in seconds: the whole range asked for, not only where there are points. */
  span?: [number, number];
  categories?: string[];
}) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const shape = [...props.series.map((series) => series.label), "\u0001", ...(props.categories ?? [])].join(
    "\u0000",
  );
  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const { categories } = props;
    const options: uPlot.Options = {
      title: props.title,
      width: Math.max(320, element.clientWidth),
      height: 220,
      series: [
        categories ? { value: (_: uPlot, index: number) => categories[index] ?? "" } : {},
        ...props.series.map((series, index) => ({
          label: series.label,
          stroke: palette[index % palette.length],
          width: 1.5,
          ...(categories && { fill: `${palette[index % palette.length]}66`, paths: bars }),
          value: (_: uPlot, value: number | null) =>
            value === null ? "–" : `${format(value)}${props.unit ?? ""}`,
        })),
      ],
      scales: categories
        ? {
            x: { time: false, range: () => [-0.5, categories.length - 0.5] },
            // Bars stand on zero, whatever the smallest value.
            y: { range: (_, min, max) => uPlot.rangeNum(Math.min(0, min), Math.max(0, max), 0.1, true) },
          }
        : props.span
          ? { x: { time: true, range: () => props.span as [number, number] } }
          : {},
      axes: [
        categories
          ? {
              splits: () => categories.map((_, index) => index),
              values: (_: uPlot, ticks: number[]) => ticks.map((tick) => categories[tick] ?? ""),
            }
          : {},
        // Wide enough for the longest label format() writes ("4.0e-6", "12.5k").
        { size: 60, values: (_: uPlot, ticks: number[]) => ticks.map((tick) => format(tick)) },
      ],
    };
    plot.current = new uPlot(options, [props.times, ...props.series.map((series) => series.values)], element);
    const resize = new ResizeObserver(() =>
      plot.current?.setSize({ width: Math.max(320, element.clientWidth), height: 220 }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
    };
    // A new set of series needs a new chart; new values of the same series only new data (below).
  }, [shape, props.title, props.span?.[0], props.span?.[1]]);
  useEffect(() => {
    plot.current?.setData([props.times, ...props.series.map((series) => series.values)]);
  }, [props.times, props.series]);
  return <div class="chart" ref={host} role="img" aria-label={props.title} />;
}

function format(value: number): string {
  if (Math.abs(value) >= 1000) return `${(value / 1000).toFixed(1)}k`;
  // Costs of single calls are millionths of a dollar: a fixed number of decimals would show 0.
  if (value !== 0 && Math.abs(value) < 0.001) return value.toExponential(1);
  return Number.isInteger(value) ? String(value) : value.toFixed(value < 1 ? 4 : 1);
}
