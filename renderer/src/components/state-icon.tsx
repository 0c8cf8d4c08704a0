import type { ReactElement } from 'react';
import type { SlotIcon } from '../describe-slot.js';

/**
 * One distinct silhouette per slot state (dashed square, magnifier, plug, arrow, gauge, tag, filled circle,
 * filled octagon), so states differ by shape as well as by colour.
 */
const SHAPES: Record<SlotIcon, ReactElement> = {
  socket: <rect x="3" y="3" width="18" height="18" rx="3" className="icon-dashed" />,
  plug: (
    <>
      <path d="M9 2v5M15 2v5" />
      <path d="M5.5 7h13v4a6.5 6.5 0 0 1-13 0z" />
      <path d="M12 17.5V22" />
    </>
  ),
  'arrow-down': (
    <>
      <path d="M12 2.5v13M5.5 9.5l6.5 6.5 6.5-6.5" />
      <path d="M3.5 21h17" />
    </>
  ),
  gauge: (
    <>
      <path d="M2.5 17a9.5 9.5 0 0 1 19 0" />
      <path d="M12 17l5-6.5" />
      <circle cx="12" cy="17" r="1.8" className="icon-solid" />
    </>
  ),
  // Dynamic QA: Wi-Fi arcs over a dot (the board joins the QA network, then is reset).
  wifi: (
    <>
      <path d="M2 9a14.5 14.5 0 0 1 20 0" />
      <path d="M5.5 12.8a9.5 9.5 0 0 1 13 0" />
      <path d="M9 16.5a4.5 4.5 0 0 1 6 0" />
      <circle cx="12" cy="20" r="1.8" className="icon-solid" />
    </>
  ),
  search: (
    <>
      <circle cx="10" cy="10" r="7" />
      <path d="M15.2 15.2l6.3 6.3" />
    </>
  ),
  tag: (
    <>
      <path d="M2.5 2.5h9l10 10-9 9-10-10z" />
      <circle cx="7.5" cy="7.5" r="1.8" className="icon-solid" />
    </>
  ),
  barcode: (
    <>
      <path d="M3 4v16M6 4v16M10 4v16M12.5 4v16M16 4v16M21 4v16" />
      <path d="M18.5 4v16" />
    </>
  ),
  check: (
    <>
      <circle cx="12" cy="12" r="10.5" className="icon-solid" />
      <path d="M6.8 12.4l3.6 3.6 6.8-7.2" className="icon-inner" />
    </>
  ),
  cross: (
    <>
      <path d="M7.6 1.5h8.8l6.1 6.1v8.8l-6.1 6.1H7.6l-6.1-6.1V7.6z" className="icon-solid" />
      <path d="M8 8l8 8M16 8l-8 8" className="icon-inner" />
    </>
  ),
};

export function StateIcon({ icon, className }: { icon: SlotIcon; className?: string }): ReactElement {
  return (
    <svg
      className={`state-icon ${className ?? ''}`}
      viewBox="0 0 24 24"
      aria-hidden="true"
      focusable="false"
      data-icon={icon}
    >
      {SHAPES[icon]}
    </svg>
  );
}
