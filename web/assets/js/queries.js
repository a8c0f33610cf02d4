// The GraphQL documents the tab sends, in one place.

import { POLICY } from './policy.js';
import { ORDERING } from './ordering.js';
import { BATCHING } from './batching.js';

export const WEBHOOK = `id name description url eventTypes status disabledReason revision
  headers { name value } rateLimit { perSecond burst } maxConcurrency filter ${POLICY} ${ORDERING} ${BATCHING}
  previousSecretExpiresAt createdAt updatedAt
  verification { status fileName downloadPath checkedUrls failureReason verifiedAt lastCheckedAt }`;

export const STATS = `attempts succeeded failed successRate p50LatencyMs p95LatencyMs stepSeconds
  series { at attempts succeeded failed }`;

export const DELIVERY = `id messageId eventType status test attemptCount nextAttemptAt lastStatusCode
  failureReason createdAt updatedAt`;

export const ATTEMPTS = `attempts { number at statusCode latencyMs errorClass errorMessage responseExcerpt
  requestHeaders { name value } }`;

// DELIVERY_DETAIL is one delivery with the body it sends (the same bytes
// on every attempt) and every attempt; the list and the subscription
// leave the body out, as it may be large.
export const DELIVERY_DETAIL = `${DELIVERY} requestBody ${ATTEMPTS}`;

export const HISTORY = 'type time revision data';

export const TEST_RESULT = 'succeeded statusCode latencyMs errorClass errorMessage responseExcerpt passesFilter';

export const USER_ERRORS = 'userErrors { field message code }';
