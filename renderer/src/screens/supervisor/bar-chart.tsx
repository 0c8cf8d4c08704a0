import type { ReactElement } from 'react';

export interface Bar {
  label: string;
  value: number;
}

const BAR_WIDTH = 28;
const GAP = 8;
const HEIGHT = 120;
const LABEL_SPACE = 34;

/** A plain SVG bar chart (no chart library); the numbers are also in the accessible name and a table. */
export function BarChart({ title, bars, testId }: { title: string; bars: Bar[]; testId: string }): ReactElement {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const width = Math.max(1, bars.length) * (BAR_WIDTH + GAP) + GAP;
  const summary = bars.map((b) => `${b.label}: ${b.value}`).join(', ');
  return (
    <figure className="bar-chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${HEIGHT + LABEL_SPACE}`} width={width} height={HEIGHT + LABEL_SPACE} role="img" aria-label={`${title}: ${summary || 'no data'}`}>
        {bars.map((bar, i) => {
          const h = Math.round((bar.value / max) * (HEIGHT - 16));
          const x = GAP + i * (BAR_WIDTH + GAP);
          return (
            <g key={`${bar.label}-${i}`}>
              <rect x={x} y={HEIGHT - h} width={BAR_WIDTH} height={h} className="bar" />
              <text x={x + BAR_WIDTH / 2} y={HEIGHT - h - 3} textAnchor="middle" className="bar-value">
                {bar.value}
              </text>
              <text x={x + BAR_WIDTH / 2} y={HEIGHT + 14} textAnchor="middle" className="bar-label">
                {bar.label}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
