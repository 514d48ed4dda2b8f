// oidc-provider's development-mode warnings (in-memory adapter, dev keys, Node 20) would drown test and demo output.
for (const method of ['warn', 'info'] as const) {
  const original = console[method].bind(console);
  console[method] = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && /oidc-provider (WARNING|NOTICE)/.test(args[0])) return;
    original(...args);
  };
}
