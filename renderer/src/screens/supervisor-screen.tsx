import type { ReactElement } from 'react';
import type { StationClient } from '../station-client.js';

/** Supervisor: batches and stock, sync, pull and export batches, void tokens, reports. */
export function SupervisorScreen(_props: { client: StationClient }): ReactElement {
  return (
    <section className="screen" aria-label="Supervisor">
      <h2>Supervisor</h2>
      <p>Supervisor screens are being built (issue 7).</p>
    </section>
  );
}
