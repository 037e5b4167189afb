import { stringify } from 'yaml';
import { UsageError } from '../errors';

export type OutputFormat = 'table' | 'json' | 'yaml';

export function parseOutputFormat(text: string | undefined, allowed: readonly OutputFormat[], command: string): OutputFormat {
  const value = (text ?? 'table') as OutputFormat;
  if (!allowed.includes(value)) {
    throw new UsageError(`-o ${text}: must be one of ${allowed.join(', ')}`, command);
  }
  return value;
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * YAML documents separated by `---`: the output of `get -o yaml` is itself a valid input to
 * `weftctl apply -f -`.
 */
export function toYamlDocuments(values: readonly unknown[]): string {
  return values.map((v) => stringify(v, { lineWidth: 0 })).join('---\n');
}

/** `1d2h`, `23h59m`, `4m10s`, `850ms`: the two most significant units, which is what a reader wants. */
export function shortDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(abs)}ms`;
  const parts: string[] = [];
  let rest = Math.floor(abs / 1000);
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size || parts.length > 0) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  // `2h0m` reads worse than `2h`.
  return parts.filter((p, i) => i === 0 || !p.startsWith('0')).join('');
}

/** `in 23h59m` for the future, `5m12s ago` for the past, `-` when the server sent no time (0). */
export function relativeTime(atMs: number, nowMs: number): string {
  if (!atMs) return '-';
  const delta = atMs - nowMs;
  return delta >= 0 ? `in ${shortDuration(delta)}` : `${shortDuration(-delta)} ago`;
}

export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 3))}...`;
}

/** `4 MiB`, `20.3 MiB`: sizes as an operator reads them. */
export function mebibytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB`;
}
