import type { DeviceCodePrompt } from '../authenticators/device-code.js';
import type { OpenBrowser } from '../authenticators/pkce.js';
import type { TokenStore } from '../tokens/token-store.js';

/** Receives text for one output stream (the text carries its own newlines). */
export type Writer = (text: string) => void;

/**
 * Everything the commands take from the outside world, so that tests can run them in-process: the environment
 * variables, the two output streams, and how to talk to the user during a login.
 */
export interface CliEnvironment {
  /** Environment variables (`HOME`, `FLYTECTL_CONFIG`, `FLYTE_*`, `XDG_CONFIG_HOME`). */
  env: Readonly<Record<string, string | undefined>>;
  /** Command output: a token, JSON, YAML, a status line. */
  stdout: Writer;
  /** Errors, warnings and login prompts, so that stdout stays clean for pipes and `$(…)`. */
  stderr: Writer;
  /** Opens the PKCE login page. Default: the system browser; when it fails, the link is printed to `stderr`. */
  openBrowser?: OpenBrowser | undefined;
  /** Shows the device-code prompt. Default: printed to `stderr`. */
  onPrompt?: ((prompt: DeviceCodePrompt) => void | Promise<void>) | undefined;
  /** Where interactive logins are cached. Default: the OS keychain or the token file, as `disableKeyring` says. */
  tokenStore?: TokenStore | undefined;
}

/** The real process: `process.env`, `process.stdout`, `process.stderr`, the system browser, the default token store. */
export function processEnvironment(): CliEnvironment {
  return {
    env: process.env,
    stdout: (text) => {
      process.stdout.write(text);
    },
    stderr: (text) => {
      process.stderr.write(text);
    },
  };
}
