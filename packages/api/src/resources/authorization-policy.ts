import { z } from 'zod';
import { name } from './common';

const source = z.union([
  z.strictObject({ service: name, namespace: name.optional() }),
  z.strictObject({ principal: z.string().startsWith('spiffe://', 'must be a SPIFFE ID (spiffe://...)') }),
]);

const operation = z.strictObject({
  methods: z.array(z.string().regex(/^[A-Z]+$/, 'must be an upper-case HTTP method')).optional(),
  /** Exact paths, or prefixes ending in `*`. */
  paths: z.array(z.string().startsWith('/', 'must start with "/"')).optional(),
});

export const authorizationPolicySpec = z.strictObject({
  service: name,
  action: z.enum(['ALLOW', 'DENY']),
  rules: z.array(z.strictObject({ from: z.array(source).optional(), to: z.array(operation).optional() })).optional(),
});

export type AuthorizationPolicySpec = z.infer<typeof authorizationPolicySpec>;
