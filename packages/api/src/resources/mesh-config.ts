import * as z from 'zod';
import { percent, duration } from './common';

export const meshConfigSpec = z.strictObject({
  trustDomain: z
    .string()
    .regex(/^[a-z0-9.\-_]+$/, 'must be a trust domain such as "weft.local"')
    .optional(),
  mtls: z.enum(['STRICT', 'PERMISSIVE']).optional(),
  /** Lowest TLS version between sidecars. TLS 1.3 unless an operator must allow 1.2. */
  minTLSVersion: z.enum(['TLSv1.2', 'TLSv1.3']).optional(),
  certificateTTL: duration.optional(),
  tracing: z
    .strictObject({
      /** host:port of an OTLP/gRPC receiver; empty disables tracing. */
      otlpEndpoint: z.string().optional(),
      samplingPercent: percent.optional(),
      /**
       * Spans a sidecar holds for export at most (recorded, not yet acknowledged by the
       * collector); beyond it new spans are dropped and counted in weft_spans_dropped_total.
       */
      maxQueueSize: z.number().int().min(1).max(100_000).optional(),
      /** Compression of OTLP export requests. */
      compression: z.enum(['gzip', 'none']).optional(),
    })
    .optional(),
  /** JSON access log lines on the sidecar's stdout. */
  accessLog: z.boolean().optional(),
  /**
   * Captured connections (weft-init) to a destination outside the mesh: ALLOW_ANY (default)
   * passes them through untouched; REGISTRY_ONLY refuses them (counted, logged).
   */
  outboundTrafficPolicy: z.enum(['ALLOW_ANY', 'REGISTRY_ONLY']).optional(),
});

export type MeshConfigSpec = z.infer<typeof meshConfigSpec>;

/** MeshConfig with every default filled in: what a sidecar actually runs with. */
export interface EffectiveMeshConfig {
  readonly trustDomain: string;
  readonly mtls: 'STRICT' | 'PERMISSIVE';
  readonly minTLSVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly certificateTTL: string;
  readonly tracing: { readonly otlpEndpoint: string; readonly samplingPercent: number; readonly maxQueueSize: number; readonly compression: 'gzip' | 'none' };
  readonly accessLog: boolean;
  readonly outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
}

export function effectiveMeshConfig(spec: MeshConfigSpec | undefined, trustDomain: string): EffectiveMeshConfig {
  return {
    trustDomain: spec?.trustDomain ?? trustDomain,
    mtls: spec?.mtls ?? 'STRICT',
    minTLSVersion: spec?.minTLSVersion ?? 'TLSv1.3',
    certificateTTL: spec?.certificateTTL ?? '24h',
    tracing: {
      otlpEndpoint: spec?.tracing?.otlpEndpoint ?? '',
      samplingPercent: spec?.tracing?.samplingPercent ?? 1, // as Istio's: a new trace is recorded once in a hundred
      maxQueueSize: spec?.tracing?.maxQueueSize ?? 2048,
      compression: spec?.tracing?.compression ?? 'none',
    },
    accessLog: spec?.accessLog ?? false,
    outboundTrafficPolicy: spec?.outboundTrafficPolicy ?? 'ALLOW_ANY',
  };
}
