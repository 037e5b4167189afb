import type { OperatorConfig } from '@weft/api';
import * as path from 'node:path';
import { CliError } from './errors';
import type { Io } from './io';

/** What the control plane writes to `<data-dir>/weftctl.json`. */
export type ClientConfig = OperatorConfig;

export interface LoadedConfig {
  readonly config: ClientConfig;
  readonly path: string;
}

/** Where the configuration comes from, in order of precedence, with the reason shown in errors. */
export function locateConfig(flag: string | undefined, io: Io): { path: string; from: string } {
  if (flag) return { path: flag, from: '--config' };
  const env = io.env['WEFT_CONFIG'];
  if (env) return { path: env, from: '$WEFT_CONFIG' };
  return { path: path.join(io.homedir, '.weft', 'config.json'), from: 'the default location' };
}

const REQUIRED = ['endpoint', 'caPem', 'certificatePem', 'privateKeyPem', 'controlPlaneSpiffeId'] as const;

/**
 * Reads and checks the configuration. Errors name the file and the field but never echo the
 * content: the file holds the operator's private key.
 */
export async function loadClientConfig(flag: string | undefined, io: Io): Promise<LoadedConfig> {
  const where = locateConfig(flag, io);
  let text: string;
  try {
    text = await io.readFile(where.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && where.from === 'the default location') {
      throw new CliError(
        'WEFT_ERR_NO_CONFIG',
        `no weftctl configuration found: looked at ${where.path} (--config and $WEFT_CONFIG are not set).\n` +
          'The control plane writes one to <data-dir>/weftctl.json when it starts: pass it with ' +
          '--config <data-dir>/weftctl.json, export WEFT_CONFIG=<data-dir>/weftctl.json, or copy it to ~/.weft/config.json.',
      );
    }
    const reason = code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message);
    throw new CliError(
      'WEFT_ERR_NO_CONFIG',
      `cannot read the weftctl configuration ${where.path} (from ${where.from}): ${reason}.\n` +
        'The control plane writes it to <data-dir>/weftctl.json when it starts.',
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CliError('WEFT_ERR_BAD_CONFIG', `the weftctl configuration ${where.path} is not valid JSON`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CliError('WEFT_ERR_BAD_CONFIG', `the weftctl configuration ${where.path} must be a JSON object`);
  }
  const obj = raw as Record<string, unknown>;
  const missing = REQUIRED.filter((key) => typeof obj[key] !== 'string' || obj[key] === '');
  if (missing.length > 0) {
    throw new CliError(
      'WEFT_ERR_BAD_CONFIG',
      `the weftctl configuration ${where.path} lacks ${missing.join(', ')}; use the weftctl.json the control plane wrote`,
    );
  }
  const config: ClientConfig = {
    endpoint: obj['endpoint'] as string,
    trustDomain: typeof obj['trustDomain'] === 'string' ? obj['trustDomain'] : '',
    caPem: obj['caPem'] as string,
    certificatePem: obj['certificatePem'] as string,
    privateKeyPem: obj['privateKeyPem'] as string,
    controlPlaneSpiffeId: obj['controlPlaneSpiffeId'] as string,
  };
  return { config, path: where.path };
}
