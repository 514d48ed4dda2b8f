// `flyte-grpc-auth/redis`: the token store shared across processes and hosts. A subpath of its own, so that the main
// entry never mentions ioredis (an optional peer dependency, loaded only when the store is given a URL).
export { RedisTokenStore } from './tokens/redis-token-store.js';
export type { RedisTokenStoreOptions } from './tokens/redis-token-store.js';
export type { EncryptionKeyInput } from './tokens/sealing.js';
