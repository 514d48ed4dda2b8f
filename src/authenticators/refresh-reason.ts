/**
 * Why an authenticator obtains new credentials: `initial` (it has none), `proactive` (the current token is still
 * valid but inside its refresh window), `expired` (the current token can no longer be used), `rejected` (the server
 * refused the current token, or a caller forced a refresh of a valid one).
 */
export type RefreshReason = 'initial' | 'proactive' | 'expired' | 'rejected';
