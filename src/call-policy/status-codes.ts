/**
 * The gRPC status codes the call policy uses. The numbers are gRPC's, which Connect's `Code` shares, so every
 * transport can hand a {@link CallStatus} to its own error type without a table.
 */
export const StatusCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** A call's outcome as every transport has it: grpc-js `StatusObject`, Connect's `ConnectError`, nice-grpc's `ClientError`. */
export interface CallStatus {
  /** The gRPC status code (0–16). */
  code: number;
  /** The status message. The policy never puts a token or secret in it. */
  details: string;
}
