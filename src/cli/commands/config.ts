import { stringify } from 'yaml';
import { MemoryTokenStore } from '../../tokens/token-store.js';
import { StaticClientConfigStore } from '../../flyte/client-config.js';
import { getAuthenticator } from '../../flyte/get-authenticator.js';
import type { PlatformConfig } from '../../flyte/platform-config.js';
import { redactPlatformConfig } from '../../flyte/redact.js';
import { loadCliConfig, type CommandContext } from '../context.js';
import { errorLine } from '../errors.js';
import { PROGRAM } from '../usage.js';

/** `config`: the resolved configuration with secrets redacted, as YAML (default) or JSON, and the file it came from. */
export async function configCommand(context: CommandContext): Promise<void> {
  const { io, options } = context;
  const cfg = await loadCliConfig(context);
  // `source: null` rather than a missing key: "no file was read" is an answer the user is looking for.
  const shown = { ...redactPlatformConfig(cfg), source: cfg.source ?? null };
  if (options.json) {
    io.stdout(`${JSON.stringify(shown, null, 2)}\n`);
  } else {
    const origin = cfg.source ? `from ${cfg.source}` : 'no config file found: defaults and environment variables only';
    io.stdout(`# ${PROGRAM} configuration (${origin}); secrets redacted\n${stringify(shown)}`);
  }
  const problem = configurationProblem(cfg);
  if (problem) io.stderr(`${PROGRAM}: warning: ${errorLine(problem, [cfg.clientCredentialsSecret])}\n`);
}

// What `token` would refuse before any request (a missing client id, secret or command), shown without failing.
function configurationProblem(cfg: PlatformConfig): unknown {
  try {
    getAuthenticator(cfg, new StaticClientConfigStore({ tokenEndpoint: '' }), { tokenStore: new MemoryTokenStore() });
    return undefined;
  } catch (error) {
    return error;
  }
}
