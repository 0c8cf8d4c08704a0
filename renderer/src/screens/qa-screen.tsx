import type { ReactElement } from 'react';
import type { StationClient } from '../station-client.js';

/** QA: scan a label or plug a board -> its history -> re-run the test plan -> pass or fail. */
export function QaScreen(_props: { client: StationClient }): ReactElement {
  return (
    <section className="screen" aria-label="QA">
      <h2>QA</h2>
      <p>QA mode is being built (issue 4).</p>
    </section>
  );
}
