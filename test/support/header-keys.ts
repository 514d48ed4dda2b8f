/**
 * Header keys that cannot carry a token, with the reason a call ends with (`src/tokens/validate.ts`'s words): the
 * server's `authorization_metadata_key` may be any of them. The same table runs against every adapter.
 */
export const BAD_HEADER_KEYS: Readonly<Record<string, string>> = {
  'Flyte Authorization': 'a gRPC metadata key may hold only the characters 0-9, a-z, _, . and - (letters are lower-cased)',
  'x-token-bin': 'keys ending in -bin carry binary values; a token needs a text key',
  'authorization\n': 'a gRPC metadata key may hold only the characters 0-9, a-z, _, . and - (letters are lower-cased)',
  'grpc-timeout': 'keys starting with grpc- are reserved for gRPC itself',
  '': 'it is empty',
};
