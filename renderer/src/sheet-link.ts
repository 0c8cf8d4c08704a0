import { SECRET_QUERY_PARAM } from '../../common/api.js';
import type { LocationLike } from './station-client.js';

/**
 * In browser mode the station server hands out sheet PDFs only with the per-run secret, the same
 * `?key=` the page was opened with. A same-origin `pdfUrl` without it gets the page's key added;
 * anything else (another origin, or the Electron app:// page) is left as it is.
 */
export function sheetPdfHref(pdfUrl: string, location: LocationLike): string {
  if (location.protocol !== 'http:' && location.protocol !== 'https:') return pdfUrl;
  const origin = `${location.protocol}//${location.host}`;
  let url: URL;
  try {
    url = new URL(pdfUrl, `${origin}/`);
  } catch {
    return pdfUrl;
  }
  if (url.origin !== origin) return pdfUrl;
  const key = new URLSearchParams(location.search).get(SECRET_QUERY_PARAM);
  if (key && !url.searchParams.has(SECRET_QUERY_PARAM)) url.searchParams.set(SECRET_QUERY_PARAM, key);
  return `${url.pathname}${url.search}${url.hash}`;
}
