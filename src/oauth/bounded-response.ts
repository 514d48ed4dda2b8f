import type { CustomFetch } from 'openid-client';

/**
 * The largest OAuth answer read, in bytes (1 MiB, as Go's oauth2 reads token responses through
 * `io.LimitReader(body, 1<<20)`). Token, device and error answers are a few KiB; anything bigger is not one.
 */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/** An OAuth answer was larger than {@link MAX_RESPONSE_BYTES}: the request was aborted without reading the rest. */
export class ResponseTooLargeError extends Error {
  override name = 'ResponseTooLargeError';
  /** The answer's HTTP status. */
  readonly status: number;
  /** The cap, in bytes. */
  readonly limit: number;

  constructor(status: number, limit: number, declared: number | undefined) {
    super(declared === undefined ? `the body exceeded ${limit} bytes` : `the body declared ${declared} bytes, more than ${limit}`);
    this.status = status;
    this.limit = limit;
  }
}

/** An OAuth answer's body broke off or stopped arriving while it was read (reset, timeout): worth asking again. */
export class ResponseBodyReadError extends Error {
  override name = 'ResponseBodyReadError';
  /** The answer's HTTP status. */
  readonly status: number;
  /** Body bytes read before it broke off. */
  readonly bytesRead: number;

  constructor(status: number, bytesRead: number, cause: unknown) {
    super(`the body broke off after ${bytesRead} bytes`, { cause });
    this.status = status;
    this.bytesRead = bytesRead;
  }
}

// Statuses whose Response may not carry a body.
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * Reads `response`'s body into memory, at most `limit` bytes: a declared `content-length` over the cap is refused
 * before reading, and a body that grows past it (chunked, endless) is cancelled there, which aborts the request.
 * Returns an equivalent `Response` whose body is already complete, so nothing after this waits on the network.
 */
export async function readBounded(response: Response, limit = MAX_RESPONSE_BYTES): Promise<Response> {
  const { status } = response;
  const length = response.headers.get('content-length');
  const declared = length !== null && /^\d+$/.test(length.trim()) ? Number(length) : undefined;
  if (declared !== undefined && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw new ResponseTooLargeError(status, limit, declared);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > limit) {
          await reader.cancel().catch(() => undefined);
          throw new ResponseTooLargeError(status, limit, undefined);
        }
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof ResponseTooLargeError) throw error;
      throw new ResponseBodyReadError(status, size, error);
    }
  }
  const body = NULL_BODY_STATUSES.has(status) ? null : Buffer.concat(chunks);
  return new Response(body, { status, statusText: response.statusText, headers: new Headers([...response.headers]) });
}

/**
 * Wraps `fetch` so that every OAuth answer is read completely, and at most {@link MAX_RESPONSE_BYTES}, before
 * openid-client sees it: a 100 MB or endless body costs 1 MiB of memory, and a body that breaks off or stalls
 * (the request's timeout signal aborts it) is a {@link ResponseBodyReadError}, a transient failure, not a parse error.
 */
export function withBoundedResponses(fetch: CustomFetch, limit = MAX_RESPONSE_BYTES): CustomFetch {
  return async (url, init) => readBounded(await fetch(url, init), limit);
}
