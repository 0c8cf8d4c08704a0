/** Every limit and timeout of the cloud service, named, with its unit in the name. */
export const CLOUD_LIMITS = {
  /** Largest JSON body on ordinary endpoints. */
  jsonBodyBytes: 64 * 1024,
  /** Largest body of one device-record push (1000 records of ~500 bytes, with room). */
  deviceRecordsBodyBytes: 2 * 1024 * 1024,
  /** Largest body that carries a CSV upload (1000 rows of metadata, with room). */
  csvBodyBytes: 2 * 1024 * 1024,
  /** Largest form body on the OAuth2 token endpoint. */
  oauthFormBodyBytes: 4 * 1024,
  /** Tokens in one generated batch (Blynk's page size limit too). */
  batchCountMax: 1000,
  /** Static-token list page size: Blynk's default and maximum. */
  pageSizeDefault: 50,
  pageSizeMax: 1000,
  /** Highest page index accepted, so page * size stays an exact integer. */
  pageIndexMax: 1_000_000,
  /** Device records in one push; voided/burned tokens in one push. */
  recordsPerPushMax: 1000,
  voidsPerPushMax: 1000,
  /** Blynk's documented platform limit: requests per minute per organisation. */
  requestsPerMinutePerOrg: 10_000,
  /** Unauthenticated endpoints (OAuth2 token, device-side external API), per remote address. */
  requestsPerMinutePerAddress: 1_200,
  /** Rate-limit buckets kept before expired ones are swept. */
  rateLimitBucketsMax: 10_000,
} as const;

export const CLOUD_TIMEOUTS = {
  /** Bearer access token lifetime. Blynk documents 24 h but tells clients to trust `expires_in`. */
  accessTokenTtlS: 3_600,
  /** Refresh token lifetime; each refresh token is good for one use. */
  refreshTokenTtlS: 86_400,
  /** A dynamic provisioning token is good for this long before its device must first connect. */
  provisionTokenTtlS: 3_600,
  /** Rate-limit window. */
  rateLimitWindowMs: 60_000,
  /** Whole request (headers and body) from a client before the server drops it. */
  requestMs: 30_000,
  /** Request headers from a client. */
  headersMs: 10_000,
  /** Idle keep-alive connection. */
  keepAliveMs: 5_000,
} as const;
