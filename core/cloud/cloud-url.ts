import { stationError } from '../../common/errors.js';

/**
 * A cloud URL the station may talk to: HTTPS anywhere, plain HTTP only to this machine (the
 * embedded cloud, tests). Station credentials and AuthTokens cross this connection, so a cleartext
 * URL to another host is refused outright rather than "warned about".
 */
export function checkCloudUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw stationError('INVALID_INPUT', `The cloud address "${raw.slice(0, 100)}" is not a URL.`, true);
  }
  if (url.username || url.password) throw stationError('INVALID_INPUT', 'Put cloud credentials in the station settings, not in the cloud address.', true);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  throw stationError(
    'INVALID_INPUT',
    url.protocol === 'http:'
      ? `The cloud address ${url.host} uses plain http://; use https:// (plain HTTP is allowed only to this computer, 127.0.0.1 or localhost).`
      : `The cloud address must start with https:// (got ${url.protocol}).`,
    true,
  );
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  // 127.0.0.0/8, written as a dotted quad (URL parsing has already normalised other IPv4 forms).
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
