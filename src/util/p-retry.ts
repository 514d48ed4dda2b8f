import { lazyImport } from './lazy.js';

/** p-retry, loaded with the first retried operation (token requests, file-lock waits), not with the package. */
export const loadPRetry = lazyImport(() => import('p-retry'));
