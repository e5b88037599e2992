// An HTTP service as a stage sees it (the contract): its settings, the call, the failure a call
// ends with. io/http/service.ts implements it with its policies; stages name it only through this.
import { z } from 'zod';
import { isSluiceError, SluiceError } from '../errors.ts';
import type { StageFailureCode } from './failures.ts';

export const serviceConfig = z.strictObject({
  'base-url': z.string().regex(/^https?:\/\/[^/]+/, 'an http:// or https:// URL').optional().describe('Prefix of the stages\' relative URLs (/path/{field})'),
  'local-service': z.string().optional().describe('A local-services entry that plays this service when base-url is not set (local mode)'),
  'timeout-ms': z.number().int().min(1).default(1000).describe('Per attempt'),
  'batch-lookups': z
    .boolean()
    .default(false)
    .describe('The service has the bulk endpoints of the stages\' batch blocks: they look keys up many at a time (otherwise one call per record; the built-in lookup server always has them)'),
  'max-concurrency': z.number().int().min(1).default(64).describe('Calls in flight to this service; further calls wait (bulkhead)'),
  retry: z
    .strictObject({
      'max-attempts': z.number().int().min(1).default(3).describe('Attempts in all, the first included'),
      'initial-delay-ms': z.number().int().min(0).default(20),
      'max-delay-ms': z.number().int().min(1).default(2000).describe('Also caps a Retry-After'),
    })
    .prefault({})
    .describe('Exponential backoff with full jitter, on network errors, timeouts, 5xx and 429 only'),
  'circuit-breaker': z
    .strictObject({
      'consecutive-failures': z.number().int().min(1).default(5).describe('Failed calls (after retries) that open the circuit'),
      'half-open-after-ms': z.number().int().min(1).default(5000).describe('Open this long, then one probe call'),
    })
    .prefault({}),
});

export type ServiceConfig = z.output<typeof serviceConfig>;

/** A call's answer: status and parsed JSON body (undefined when not JSON). */
export interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** The stage failures a call can end with. */
export type HttpFailureCode = Extract<StageFailureCode, 'E_HTTP_STATUS' | 'E_HTTP_UNAVAILABLE' | 'E_CIRCUIT_OPEN' | 'E_RESPONSE' | 'E_DEADLINE'>;

/** A failed call: an SLC_HTTP SluiceError with the stage failure its dead letter carries. */
export type HttpFailure = SluiceError & { readonly code: 'SLC_HTTP'; readonly reason: HttpFailureCode };

/** A call failed for good (`retriable`: an attempt that another attempt may get past). */
export const httpFailure = (reason: HttpFailureCode, message: string, options?: { cause?: unknown; retriable?: boolean }): HttpFailure =>
  new SluiceError('SLC_HTTP', message, { ...options, reason }) as HttpFailure;

export const isHttpFailure = (error: unknown): error is HttpFailure => isSluiceError(error, 'SLC_HTTP') && error.reason !== undefined;

/** A configured HTTP service, shared by the stages naming it. */
export interface Service {
  readonly name: string;
  /** Relative stage URLs can be resolved (base-url set, or a local service plays it). */
  readonly hasBaseUrl: boolean;
  /** The service answers the bulk endpoints of the stages' batch blocks (batch-lookups). */
  readonly batchLookups: boolean;
  /** An absolute URL for a stage's URL (relative ones are resolved against base-url). */
  resolve(url: string): string;
  /** Resolves with the answer for 2xx and 404; rejects with HttpFailure. `deadline`: a performance.now() time. */
  call(method: string, url: string, headers: Record<string, string>, body: string | undefined, deadline?: number): Promise<HttpAnswer>;
}
