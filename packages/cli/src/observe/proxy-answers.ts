import type { ProxyAnswer } from '@weft/api';

/**
 * One line for the proxies whose numbers are missing (they did not answer in time, or their
 * sidecar is too old to be asked), so a partial view never passes for a complete one.
 */
export function missingProxies(answers: readonly ProxyAnswer[]): string {
  const missing = answers.filter((a) => a.state !== 'ok');
  if (missing.length === 0) return '';
  const shown = missing.slice(0, 10).map((a) => `${a.service}.${a.namespace} (${a.proxyId.slice(0, 8)}): ${a.state === 'unsupported' ? 'sidecar too old to be asked' : a.state === 'no-answer' ? 'no answer in time' : a.error}`);
  const more = missing.length > shown.length ? `, and ${missing.length - shown.length} more` : '';
  return `⚠ ${missing.length} of ${answers.length} proxies are not counted: ${shown.join('; ')}${more}\n`;
}
