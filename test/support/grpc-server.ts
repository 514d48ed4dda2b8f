import * as grpc from '@grpc/grpc-js';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { echoService, type EchoReply, type EchoRequest } from './echo-service.js';

/** One call as the server saw it. */
export interface ReceivedCall {
  method: string;
  /** Every value of the auth header (more than one would be a bug). */
  headerValues: string[];
  /** `ok` or why the call was rejected. */
  outcome: string;
  metadata: grpc.Metadata;
}

export interface TestGrpcServer {
  address: string;
  server: grpc.Server;
  calls: ReceivedCall[];
  /** Rejects the next `count` calls with UNAUTHENTICATED, whatever their token. */
  rejectNext(count: number): void;
  /** Answers the next `count` calls with this status (before any message). */
  failNext(code: grpc.status, count?: number): void;
  /** Moves the server's clock forward, so tokens the client still trusts are expired here. */
  advanceClock(ms: number): void;
  close(): Promise<void>;
}

export interface GrpcServerOptions {
  /** The identity provider whose JWTs are accepted. */
  issuer: string;
  jwksUri: string;
  audience: string;
  /** Metadata key carrying `Bearer <jwt>`. Default `authorization`. */
  headerKey?: string;
  /** Extra services on the same server (AuthMetadataService, IdentityService…). */
  addServices?: (server: grpc.Server) => void;
  credentials?: grpc.ServerCredentials;
  /** The keys to verify with, instead of fetching `jwksUri` (e.g. an HTTPS identity provider with a test CA). */
  jwks?: JWTVerifyGetKey;
}

type AnyCall =
  | grpc.ServerUnaryCall<EchoRequest, EchoReply>
  | grpc.ServerReadableStream<EchoRequest, EchoReply>
  | grpc.ServerWritableStream<EchoRequest, EchoReply>
  | grpc.ServerDuplexStream<EchoRequest, EchoReply>;

/**
 * A real grpc-js server on 127.0.0.1 with the `test.echo.Echo` service. Every call must carry a JWT from the
 * identity provider (signature checked against its JWKS, audience, issuer and expiry).
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<TestGrpcServer> {
  const headerKey = options.headerKey ?? 'authorization';
  const jwks: JWTVerifyGetKey = options.jwks ?? createRemoteJWKSet(new URL(options.jwksUri));
  const calls: ReceivedCall[] = [];
  const forced: grpc.status[] = [];
  let clockSkewMs = 0;

  async function authorize(method: string, call: AnyCall): Promise<{ subject: string } | grpc.ServiceError> {
    const headerValues = call.metadata.get(headerKey).map(String);
    const record: ReceivedCall = { method, headerValues, outcome: 'ok', metadata: call.metadata };
    calls.push(record);
    // Response headers first, numbered, so tests can tell which attempt's headers reached the app.
    const headers = new grpc.Metadata();
    headers.set('x-attempt', String(calls.length));
    call.sendMetadata(headers);
    const reject = (code: grpc.status, details: string): grpc.ServiceError => {
      record.outcome = details;
      return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
    };
    const forcedCode = forced.shift();
    if (forcedCode !== undefined) return reject(forcedCode, 'rejected by test');
    if (headerValues.length !== 1) return reject(grpc.status.UNAUTHENTICATED, `expected one ${headerKey} value, got ${headerValues.length}`);
    const match = /^Bearer (.+)$/.exec(headerValues[0]!);
    if (!match) return reject(grpc.status.UNAUTHENTICATED, 'no bearer token');
    try {
      const { payload } = await jwtVerify(match[1]!, jwks, {
        issuer: options.issuer,
        audience: options.audience,
        currentDate: new Date(Date.now() + clockSkewMs),
      });
      const subject = payload.sub ?? payload.client_id;
      return { subject: typeof subject === 'string' ? subject : '' };
    } catch (error) {
      return reject(grpc.status.UNAUTHENTICATED, `invalid token: ${(error as { code?: string }).code ?? String(error)}`);
    }
  }

  const isError = (value: { subject: string } | grpc.ServiceError): value is grpc.ServiceError => value instanceof Error;

  const server = new grpc.Server();
  server.addService(echoService, {
    Unary: (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) => {
      void authorize('Unary', call).then((auth) => {
        if (isError(auth)) callback(auth);
        else callback(null, { text: `ok:${call.request.text ?? ''}`, subject: auth.subject });
      });
    },
    ServerStream: (call: grpc.ServerWritableStream<EchoRequest, EchoReply>) => {
      void authorize('ServerStream', call).then((auth) => {
        if (isError(auth)) {
          call.emit('error', auth);
          return;
        }
        const count = call.request.count || 3;
        for (let i = 0; i < count; i += 1) call.write({ text: `${call.request.text ?? ''}-${i}`, subject: auth.subject });
        // `fail-midstream`: the replies went out, then the server rejects the credentials.
        if (call.request.text === 'fail-midstream') {
          call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'token expired mid-stream' });
          return;
        }
        call.end();
      });
    },
    ClientStream: (call: grpc.ServerReadableStream<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) => {
      const texts: string[] = [];
      call.on('data', (request: EchoRequest) => texts.push(request.text ?? ''));
      const authorized = authorize('ClientStream', call);
      call.on('end', () => {
        void authorized.then((auth) => {
          if (isError(auth)) callback(auth);
          else callback(null, { text: texts.join(','), subject: auth.subject });
        });
      });
    },
    Bidi: (call: grpc.ServerDuplexStream<EchoRequest, EchoReply>) => {
      void authorize('Bidi', call).then((auth) => {
        if (isError(auth)) {
          call.emit('error', auth);
          return;
        }
        call.on('data', (request: EchoRequest) => {
          call.write({ text: `echo:${request.text ?? ''}`, subject: auth.subject });
          if (request.text === 'fail-midstream') call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'token expired mid-stream' });
        });
        call.on('end', () => call.end());
      });
    },
  });
  options.addServices?.(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', options.credentials ?? grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });

  return {
    address: `127.0.0.1:${port}`,
    server,
    calls,
    rejectNext(count) {
      for (let i = 0; i < count; i += 1) forced.push(grpc.status.UNAUTHENTICATED);
    },
    failNext(code, count = 1) {
      for (let i = 0; i < count; i += 1) forced.push(code);
    },
    advanceClock(ms) {
      clockSkewMs += ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => server.forceShutdown(), 500).unref();
      }),
  };
}
