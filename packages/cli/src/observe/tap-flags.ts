import { parseDuration, type TapRequest } from '@weft/api';
import type { FlagSpec, ParsedArgs } from '../args';
import { UsageError } from '../errors';
import { NAMESPACE_FLAG } from '../commands/shared-flags';
import { serviceArg } from './service-arg';

/** The flags `tap` and `top` share: what to watch, how much, how long. */
export const TAP_FLAGS: readonly FlagSpec[] = [
  { name: 'to', value: 'SERVICE', description: 'only requests to this service' },
  { name: 'from', value: 'SERVICE', description: 'only requests from this service' },
  { name: 'path', value: 'PREFIX', description: 'only requests whose path starts with PREFIX' },
  { name: 'method', value: 'METHOD', description: 'only requests with this method (GET, POST, ...)' },
  { name: 'direction', value: 'DIR', description: 'inbound or outbound (default both: a meshed request shows once on each side)' },
  { name: 'max-rps', value: 'N', description: 'events per second each proxy sends at most (default 100); the rest are counted as dropped' },
  { name: 'duration', value: 'DURATION', description: 'stop after this long (default: until interrupted, at most 1h)' },
  NAMESPACE_FLAG,
];

export function tapRequestOf(args: ParsedArgs, command: string): TapRequest {
  const duration = args.string('duration');
  const durationMs = duration === undefined ? 0 : parseDuration(duration);
  if (durationMs === undefined || durationMs < 0 || durationMs > 3_600_000) throw new UsageError(`--duration ${duration}: must be a duration up to 1h, such as 10s`, command);
  const rpsText = args.string('max-rps');
  const maxRps = rpsText === undefined ? 0 : Number(rpsText);
  if (!Number.isInteger(maxRps) || maxRps < 0 || maxRps > 10_000) throw new UsageError(`--max-rps ${rpsText}: must be a whole number from 1 to 10000`, command);
  const direction = args.string('direction') ?? '';
  if (!['', 'inbound', 'outbound'].includes(direction)) throw new UsageError(`--direction ${direction}: must be inbound or outbound`, command);
  const path = args.string('path') ?? '';
  if (path !== '' && !path.startsWith('/')) throw new UsageError(`--path ${path}: must start with /`, command);
  return {
    filter: {
      from: serviceArg(args.string('from'), args, command) ?? '',
      to: serviceArg(args.string('to'), args, command) ?? '',
      pathPrefix: path,
      method: (args.string('method') ?? '').toUpperCase(),
      direction,
    },
    maxRps,
    durationMs,
  };
}
