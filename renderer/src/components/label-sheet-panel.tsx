import { memo, type ReactElement } from 'react';
import type { LabelSheetView } from '../../../common/api.js';
import { shortQr } from '../describe-slot.js';
import { sheetPdfHref } from '../sheet-link.js';

/** Sheet positions in the order the labels were placed, each tied to the slot its board sat in. */
export const LabelSheetPanel = memo(function LabelSheetPanel({ sheet, onPrint }: { sheet: LabelSheetView | null; onPrint?: ((reprint: boolean) => void) | null }): ReactElement {
  if (!sheet) {
    return (
      <aside className="sheet-panel" aria-label="Label sheet" data-testid="label-sheet">
        <h2>Label sheet</h2>
        <p className="sheet-empty">No sheet yet: the first finished board starts one.</p>
      </aside>
    );
  }
  const byPosition = new Map(sheet.labels.map((label) => [label.position, label]));
  const latest = sheet.labels.at(-1)?.position;
  const positions = Array.from({ length: sheet.capacity }, (_, i) => i);
  return (
    <aside className="sheet-panel" aria-label="Label sheet" data-testid="label-sheet">
      <div className="sheet-head">
        <h2>Label sheet</h2>
        <span className="sheet-count" data-testid="sheet-count">
          {sheet.labels.length} / {sheet.capacity}
        </span>
      </div>
      <p className="sheet-id">Sheet {sheet.id}</p>
      {sheet.pdfUrl ? (
        <a className="button sheet-pdf" href={sheetPdfHref(sheet.pdfUrl, window.location)} target="_blank" rel="noopener noreferrer" data-testid="sheet-pdf">
          Open sheet PDF
        </a>
      ) : null}
      <div className="sheet-print">
        <button
          type="button"
          className="button button-primary"
          data-testid="print-sheet"
          disabled={!onPrint || sheet.printed >= sheet.labels.length}
          onClick={() => onPrint?.(false)}
        >
          {sheet.labels.length > sheet.printed
            ? `Print ${sheet.labels.length - sheet.printed} new label${sheet.labels.length - sheet.printed === 1 ? '' : 's'}`
            : 'All printed'}
        </button>
        <button type="button" className="button" data-testid="reprint-sheet" disabled={!onPrint || sheet.printed === 0} onClick={() => onPrint?.(true)}>
          Reprint
        </button>
      </div>
      <p className="sheet-printer">
        Printer: <span className="mono">{sheet.printer}</span>
      </p>
      {sheet.lastPrint ? (
        <p className={sheet.lastPrint.ok ? 'sheet-last-print' : 'sheet-last-print bad'} role={sheet.lastPrint.ok ? 'status' : 'alert'} data-testid="last-print">
          {sheet.lastPrint.message}
        </p>
      ) : null}
      <ol className="sheet-grid" aria-label="Label positions">
        {positions.map((position) => {
          const label = byPosition.get(position);
          return label ? (
            <li
              key={position}
              className={`sheet-cell filled${position === latest ? ' latest' : ''}${position < sheet.printed ? ' printed' : ''}`}
              data-printed={position < sheet.printed ? 'true' : 'false'}
              aria-current={position === latest ? 'true' : undefined}
              data-testid={`label-${position + 1}`} data-slot={label.slotIndex}>
              <span className="cell-position">{position + 1}</span>
              <span className="cell-slot">Slot {label.slotIndex}</span>
              <span className="cell-qr mono">…{shortQr(label.qrToken)}</span>
              <span className="cell-serial mono">{label.serial}</span>
            </li>
          ) : (
            <li key={position} className="sheet-cell" aria-label={`Position ${position + 1} free`}>
              <span className="cell-position">{position + 1}</span>
            </li>
          );
        })}
      </ol>
    </aside>
  );
});
