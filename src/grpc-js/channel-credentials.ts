import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { readCaBundle } from '../oauth/http.js';
import type { TransportSecurityConfig } from '../flyte/transport-security.js';

/**
 * The channel credentials for a Flyte endpoint, with flytekit's precedence: `insecure` (plaintext), then
 * `insecureSkipVerify` (TLS, nothing verified), then `caCertFilePath` (TLS trusting that CA), else TLS with the
 * system roots. Authentication is not part of them: it is an interceptor, so it works over plaintext too.
 * @throws AuthenticationError (`ERR_CONFIG`) naming the CA file when it cannot be read or holds no certificate.
 */
export function createChannelCredentials(cfg: TransportSecurityConfig): ChannelCredentials {
  if (cfg.insecure) return credentials.createInsecure();
  // grpc-js hands rejectUnauthorized to tls.connect and skips its own authorized check; Node then skips the host name
  // check as well. flytekit instead trusts the leaf it downloads, which fails for intermediate CAs (flyte-sdk#915).
  if (cfg.insecureSkipVerify) return credentials.createSsl(null, null, null, { rejectUnauthorized: false });
  if (cfg.caCertFilePath) return credentials.createSsl(readCaBundle(cfg.caCertFilePath));
  return credentials.createSsl();
}
