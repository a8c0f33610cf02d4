// The GraphQL documents the tab sends, in one place.

export const WEBHOOK = `id name description url eventTypes status disabledReason revision
  previousSecretExpiresAt createdAt updatedAt
  verification { status fileName downloadPath checkedUrls failureReason verifiedAt lastCheckedAt }`;

export const STATS = `attempts succeeded failed successRate p50LatencyMs p95LatencyMs stepSeconds
  series { at attempts succeeded failed }`;

export const DELIVERY = `id messageId eventType status test attemptCount nextAttemptAt lastStatusCode
  failureReason createdAt updatedAt`;

export const ATTEMPTS = `attempts { number at statusCode latencyMs errorClass errorMessage responseExcerpt
  requestHeaders { name value } }`;

export const TEST_RESULT = 'succeeded statusCode latencyMs errorClass errorMessage responseExcerpt';

export const USER_ERRORS = 'userErrors { field message code }';
