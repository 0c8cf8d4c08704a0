import { CloudHttpError } from '../http/http-error.js';
import { callerOf, type RouteContext } from '../http/route.js';

/**
 * The organisation a request acts on: the one named, or the caller's own. A client acts on its
 * organisation and the sub-organisations below it; any other id answers 404 (not 403), so ids of
 * other organisations cannot be probed.
 */
export async function actingOrg(ctx: RouteContext, requested: number | undefined): Promise<number> {
  const caller = callerOf(ctx);
  const orgId = requested ?? caller.orgId;
  if (!(await ctx.store.orgs.manages(caller.orgId, orgId))) throw orgNotFound();
  return orgId;
}

export function orgNotFound(): CloudHttpError {
  return new CloudHttpError('NOT_FOUND', 'The organisation does not exist or is not accessible.');
}
