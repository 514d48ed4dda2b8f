import { readFileSync } from 'node:fs';

/** The program name used in usage text and error lines. */
export const PROGRAM = 'flyte-grpc-auth';

/** The full help text (`--help`, and after a usage error on stderr). */
export const USAGE = `Usage: ${PROGRAM} <command> [options]

Authenticate to a Flyte endpoint the way flytectl and flytekit do, from ~/.flyte/config.yaml
(or $FLYTECTL_CONFIG) and the FLYTE_* environment variables.

Commands:
  token     Print an access token for the endpoint on stdout (usable as admin.command).
            Interactive modes use the cached credentials, refresh them, or log in.
  whoami    Call IdentityService/UserInfo with auth and print the answer as JSON (Flyte 1's
            flyteidl.service.IdentityService or Flyte 2's flyteidl2.auth.IdentityService, as found).
  config    Print the resolved configuration, secrets redacted, and the file it came from.
  login     Log in with the configured flow and cache the credentials (PKCE, DeviceFlow: always a new
            login); for ClientSecret and ExternalCommand, obtain a token to check the configuration.
  logout    Delete the cached credentials of this endpoint, client id and flow.

Options:
  -c, --config FILE    Read this config file instead of the usual discovery.
      --endpoint HOST  Use this endpoint (host:port, dns:/// allowed) instead of admin.endpoint.
      --insecure       Plaintext gRPC (no TLS), as admin.insecure: true.
      --auth-metadata-service NAME
                       Ask this AuthMetadataService (e.g. flyteidl2.auth.AuthMetadataService) instead of
                       finding Flyte 1's or Flyte 2's, as admin.authMetadataService.
      --json           config: print JSON instead of YAML.
      --no-browser     token, whoami, login: print the PKCE login link instead of opening a browser.
  -h, --help           Show this help.
  -V, --version        Show the version.

Exit codes: 0 success, 1 failure (one line on stderr), 2 wrong usage.
`;

/** The package version, read from the package.json two levels up (from `src/cli/` under tsx or `dist/cli/` when built). */
export function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}
