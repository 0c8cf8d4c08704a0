import { StationError, stationError } from '../../common/errors.js';
import type { StaticTokenLifecycleClient } from '../cloud/cloud-client.js';
import type { TokenQueue, TokenRecord } from '../queue/token-queue.js';

/**
 * A supervisor's disclaim and delete of a static token in the cloud. Both are confirmed by typing
 * the QR token again (or scanning the label twice), both are audited in the station's audit log,
 * and nothing changes at the station unless the cloud acted: the cloud call comes first, the local
 * consequences (audit row, voiding an unused token the cloud no longer honours) after its success.
 */

/** `sqr_…+{orgId}` (a scanned label) -> `sqr_…`. */
export function qrTokenOf(code: string): string {
  return code.trim().split('+')[0] ?? '';
}

export interface CloudTokenActionsDeps {
  lifecycle: StaticTokenLifecycleClient;
  queue: TokenQueue;
  /** True while a slot is provisioning the board that holds this token. */
  inUse: (tokenId: number) => boolean;
  log?: (line: string) => void;
}

type Action = 'disclaim' | 'delete';

const VERB: Record<Action, string> = { disclaim: 'disclaimed', delete: 'deleted' };

export class CloudTokenActions {
  constructor(private readonly deps: CloudTokenActionsDeps) {}

  async disclaim(code: string, confirm: string): Promise<{ qrToken: string; status: 'CLAIMED' | 'UNCLAIMED' }> {
    const qrToken = this.confirmed(code, confirm);
    const local = this.deps.queue.findByQrToken(qrToken);
    const state = await this.cloud('disclaim', qrToken, () => this.deps.lifecycle.disclaim(qrToken));
    this.deps.queue.recordEvent(local?.id ?? null, 'cloud-token-disclaimed', `${qrToken} disclaimed in the cloud by a supervisor (now ${state.status})`);
    this.deps.log?.(`token …${qrToken.slice(-6)} disclaimed in the cloud by a supervisor`);
    return { qrToken, status: state.status };
  }

  /**
   * Deletes the token in the cloud: its AuthToken is refused from then on. A token still unused in
   * this station's queue is voided here in the same step, so it never goes into a board.
   */
  async delete(code: string, confirm: string): Promise<{ qrToken: string; voidedHere: boolean }> {
    const qrToken = this.confirmed(code, confirm);
    const local = this.deps.queue.findByQrToken(qrToken);
    if (local && this.deps.inUse(local.id)) {
      throw stationError('BUSY', 'That token is in a board being provisioned right now; wait until its slot finishes. Nothing changed.', true);
    }
    await this.cloud('delete', qrToken, () => this.deps.lifecycle.deleteStaticToken(qrToken));
    const voidedHere = local !== null && local.state === 'available';
    if (voidedHere) this.deps.queue.void(local.id, 'deleted in the cloud');
    this.deps.queue.recordEvent(local?.id ?? null, 'cloud-token-deleted', `${qrToken} deleted in the cloud by a supervisor${describeLocal(local, voidedHere)}`);
    this.deps.log?.(`token …${qrToken.slice(-6)} deleted in the cloud by a supervisor`);
    return { qrToken, voidedHere };
  }

  private confirmed(code: string, confirm: string): string {
    const qrToken = qrTokenOf(code);
    if (!/^sqr_[-_A-Za-z0-9]{32}$/.test(qrToken)) throw stationError('INVALID_INPUT', 'That is not a QR token (sqr_ followed by 32 characters). Nothing changed.', true);
    if (qrTokenOf(confirm) !== qrToken) {
      throw stationError('INVALID_INPUT', 'The confirmation does not match the QR token: type or scan the same token again. Nothing changed.', true);
    }
    return qrToken;
  }

  /** The cloud call, its failures reworded for a supervisor (no token in them). */
  private async cloud<T>(action: Action, qrToken: string, call: () => Promise<T>): Promise<T> {
    const which = `token …${qrToken.slice(-6)}`;
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof StationError)) throw err;
      const status = err.details?.['status'];
      const server = err.details?.['serverMessage'];
      const because =
        err.code === 'CLOUD_UNREACHABLE'
          ? `the cloud cannot be reached right now${typeof status === 'number' ? ` (HTTP ${status})` : ''}. Try again when it is back.`
          : status === 404
            ? 'the cloud has no such token in this organisation (or it was deleted already).'
            : status === 403
              ? "this station's cloud credentials may not do that; use the cloud console."
              : typeof server === 'string' && server !== ''
                ? `the cloud refused: ${server.replace(/\.$/, '')}.`
                : `the cloud refused (${err.message})`;
      throw new StationError({ code: err.code, message: `The ${which} was not ${VERB[action]}: ${because} Nothing changed.`, operatorFault: true, ...(err.details ? { details: err.details } : {}) });
    }
  }
}

function describeLocal(local: TokenRecord | null, voided: boolean): string {
  if (!local) return ' (not in this station\'s queue)';
  return voided ? '; unused here, so voided' : ` (here: ${local.state})`;
}
