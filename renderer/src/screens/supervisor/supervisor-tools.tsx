import type { ReactElement } from 'react';
import type { BatchView } from '../../../../common/api.js';
import { BatchExportPanel } from './batch-export-panel.js';
import { CloudTokenPanel } from './cloud-token-panel.js';
import { CsvPullPanel } from './csv-pull-panel.js';
import { HeldRecordsPanel } from './held-records-panel.js';
import type { SupervisorCall, SupervisorMessage } from './supervisor-call.js';

/** The supervisor's batch and cloud tools (issue 7): CSV pull, batch zip, disclaim/delete, held records. */
export function SupervisorTools(props: { call: SupervisorCall; busy: boolean; batches: readonly BatchView[]; heldCount: number; onMessage: SupervisorMessage }): ReactElement {
  const { call, busy, onMessage } = props;
  return (
    <>
      <CsvPullPanel call={call} busy={busy} onMessage={onMessage} />
      <BatchExportPanel call={call} busy={busy} batches={props.batches} onMessage={onMessage} />
      <CloudTokenPanel call={call} busy={busy} onMessage={onMessage} />
      <HeldRecordsPanel call={call} busy={busy} heldCount={props.heldCount} onMessage={onMessage} />
    </>
  );
}
