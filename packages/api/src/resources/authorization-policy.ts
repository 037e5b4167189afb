import * as z from 'zod';
import { name } from './common';

/**
 * Who a rule is about: a mesh service (`namespace` defaults to the policy's own namespace) or one
 * SPIFFE ID. One object names one caller; a caller with no identity (plaintext in PERMISSIVE
 * mode) matches neither form.
 */
const source = z
  .strictObject({
    service: name.optional(),
    namespace: name.optional(),
    principal: z
      .string()
      .regex(/^spiffe:\/\/[^/\s]+\/\S*$/, 'must be a SPIFFE ID such as "spiffe://weft.local/ns/default/sa/frontend"')
      .optional(),
  })
  .superRefine((value, ctx) => {
    if ((value.service === undefined) === (value.principal === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'set either service (with an optional namespace) or principal' });
    } else if (value.namespace !== undefined && value.service === undefined) {
      ctx.addIssue({ code: 'custom', path: ['namespace'], message: 'goes with service, not with principal (a principal names its namespace itself)' });
    }
  });

/**
 * A request path to match: exact, or a prefix when it ends in `*`. A `*` anywhere else would be
 * taken literally by the matcher and never match what the operator meant, so it is refused here.
 * Paths are compared after normalization (see `authz/normalize-path.ts`), so `?` and `#` (never
 * part of a normalized path) are refused too.
 */
const path = z
  .string()
  .startsWith('/', 'must start with "/"')
  .refine((p) => !p.slice(0, -1).includes('*'), '"*" is allowed only at the end (a prefix match such as "/orders/*")')
  .refine((p) => !/[?#\s]/.test(p), 'must be a path without query, fragment or whitespace');

const operation = z.strictObject({
  methods: z.array(z.string().regex(/^[A-Z]+$/, 'must be an upper-case HTTP method')).min(1).optional(),
  /** Exact paths, or prefixes ending in `*`. */
  paths: z.array(path).min(1).optional(),
});

/**
 * An empty list would read as "nobody" to some and as "anybody" to others; it is refused so that
 * a rule either leaves `from`/`to` out (any caller / any operation) or names something.
 */
const rule = z.strictObject({ from: z.array(source).min(1).optional(), to: z.array(operation).min(1).optional() });

export const authorizationPolicySpec = z.strictObject({
  service: name,
  action: z.enum(['ALLOW', 'DENY']),
  /** A policy without rules matches no request: an ALLOW policy with none allows nothing. */
  rules: z.array(rule).optional(),
});

export type AuthorizationPolicySpec = z.infer<typeof authorizationPolicySpec>;
export type AuthorizationRule = z.infer<typeof rule>;
export type AuthorizationSource = z.infer<typeof source>;
export type AuthorizationOperation = z.infer<typeof operation>;
