import type { AuthorizedRequester } from './authorized-requester.js';
import type { StaticTokenState } from './cloud-client.js';
import { failureFor, rejected } from './cloud-http.js';
import { deletedDeviceReply, hardwareConnectedReply, staticTokenPageReply, userPageReply, userReply } from './cloud-replies.js';

/**
 * What QA asks the cloud about a board: the cloud check of static-token products and the cloud
 * step of dynamic QA. The AuthToken goes only into the one request that needs it (Blynk's device
 * API puts it in the `token` query parameter); sendCloudRequest never copies a URL into an error,
 * and nothing here logs.
 */

/** List pages read while looking one entry up (Blynk's list has no filter by token or email). */
const LIST_PAGES_MAX = 50;
const PAGE_SIZE_MAX = 1000;

/** Whether a board holding `authToken` is online now; null when the cloud does not know the token. */
export async function isHardwareConnected(http: AuthorizedRequester, authToken: string): Promise<boolean | null> {
  const operation = 'asking whether the board is online';
  const res = await http.requestPublic(operation, 'GET', `/external/api/isHardwareConnected?token=${encodeURIComponent(authToken)}`);
  // Unknown, deleted, voided and expired tokens are all answered alike ("Invalid token.").
  if (res.status === 404 || res.status === 400) return null;
  return http.parsed(operation, res, hardwareConnectedReply);
}

/** A static token's lifecycle state by its QR token (`sqr_…`); null when the organisation has none such. */
export async function staticTokenState(http: AuthorizedRequester, qrToken: string): Promise<StaticTokenState | null> {
  const operation = 'looking up a static token';
  // Our cloud filters by `token` (one row); on Blynk the filter is ignored and the pages are walked.
  for (let page = 0; page < LIST_PAGES_MAX; page++) {
    const path = `/api/v1/organization/static-tokens?token=${encodeURIComponent(qrToken)}&page=${page}&size=${PAGE_SIZE_MAX}`;
    const reply = http.parsed(operation, await http.request(operation, 'GET', path), staticTokenPageReply);
    const found = reply.content.find((t) => t.token === qrToken);
    if (found) {
      const { token, orgId, status, ownerId, deviceId, claimedOrgId } = found;
      return { token, orgId, status, ownerId, deviceId, claimedOrgId };
    }
    if (reply.content.length === 0 || (page + 1) * PAGE_SIZE_MAX >= reply.totalElements) return null;
  }
  return null;
}

/** Deletes a device (dynamic QA's test device): its provisioning token stops working. */
export async function deleteDevice(http: AuthorizedRequester, deviceId: number): Promise<void> {
  const operation = 'deleting a test device';
  http.parsed(operation, await http.request(operation, 'DELETE', `/api/v1/organization/device?deviceId=${deviceId}`), deletedDeviceReply);
}

/** The id of the user with this email in the caller's organisation, created when missing. */
export async function ensureUser(http: AuthorizedRequester, args: { email: string; name: string }): Promise<number> {
  const operation = 'finding the QA user';
  const email = args.email.trim().toLowerCase();
  for (let page = 0; page < LIST_PAGES_MAX; page++) {
    const reply = http.parsed(operation, await http.request(operation, 'GET', `/api/v1/organization/users?page=${page}&size=${PAGE_SIZE_MAX}`), userPageReply);
    const found = reply.content.find((u) => u.email.toLowerCase() === email);
    if (found) return found.id;
    if (reply.content.length === 0 || (page + 1) * PAGE_SIZE_MAX >= reply.totalElements) break;
  }
  const res = await http.request(operation, 'POST', '/api/v1/organization/users/create', { email, name: args.name, role: 'user' });
  if (res.status !== 200 && res.status !== 201) throw failureFor(operation, res);
  const parsed = userReply.safeParse(res.body);
  if (!parsed.success) throw rejected(operation, res.status, 'invalid-reply');
  return parsed.data.id;
}
