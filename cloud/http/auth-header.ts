import type { IncomingMessage } from 'node:http';

/** `Authorization: Bearer <token>`; null when absent or of another scheme. */
export function bearerToken(req: IncomingMessage): string | null {
  const match = /^Bearer[ ]+([-._~+/a-zA-Z0-9]+=*)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1] ?? null;
}

/**
 * `Authorization: Basic base64(clientId:clientSecret)` (RFC 7617). The id ends at the first colon,
 * so the secret may contain colons. Null when absent or malformed.
 */
export function basicCredentials(req: IncomingMessage): { clientId: string; clientSecret: string } | null {
  const match = /^Basic[ ]+([A-Za-z0-9+/]+=*)\s*$/i.exec(req.headers.authorization ?? '');
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  const clientSecret = decoded.slice(colon + 1);
  if (clientSecret.length === 0) return null;
  return { clientId: decoded.slice(0, colon), clientSecret };
}
