import * as z from 'zod';
import { parseDuration } from '../duration';
import { NAME_RE } from '../spiffe';

/** A DNS-label name: services, namespaces, subsets, resource names. */
export const name = z
  .string()
  .regex(NAME_RE, 'must be a DNS label: lower-case letters, digits and "-", at most 63 characters');

/** A duration string (`250ms`, `2s`, `1m`); kept as text in the resource, compiled to ms later. */
export const duration = z.string().refine((text) => {
  const ms = parseDuration(text);
  return ms !== undefined && ms > 0;
}, 'must be a positive duration such as "250ms", "2s" or "1m"');

export const percent = z.number().min(0).max(100);

/** A regular expression that must compile, so that a bad one is rejected at apply, not per request. */
export const regex = z.string().min(1).refine((text) => {
  try {
    new RegExp(text);
    return true;
  } catch {
    return false;
  }
}, 'must be a valid regular expression');

/**
 * Exactly one of the given keys must be set: `{exact|prefix|regex}` style matchers.
 * Reported on the object itself so the path points at the matcher.
 */
export function exactlyOne<T extends Record<string, unknown>>(keys: readonly (keyof T & string)[]) {
  return (value: T, ctx: z.RefinementCtx): void => {
    const set = keys.filter((k) => value[k] !== undefined);
    if (set.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          set.length === 0
            ? `set exactly one of ${keys.join(', ')}`
            : `set only one of ${keys.join(', ')} (found ${set.join(' and ')})`,
      });
    }
  };
}

export const metadata = z.strictObject({
  name,
  namespace: name.optional(),
  labels: z.record(z.string(), z.string()).optional(),
});
