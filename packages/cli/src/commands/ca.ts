import { setTimeout as sleep } from 'node:timers/promises';
import { parseDuration, type CaStatus } from '@weft/api';
import type { AdminApi } from '../admin-client';
import type { ParsedArgs } from '../args';
import { CliError, EXIT, UsageError } from '../errors';
import type { Io } from '../io';
import { parseOutputFormat, relativeTime, shortDuration, toJson } from '../output/format';
import { renderTable } from '../output/table';
import type { Command, CommandContext } from './command';
import { expectPositionals, outputFlag } from './shared-flags';

const SHORT_FINGERPRINT = 12;
const POLL_MS = 500;
const DEFAULT_WAIT = '10m';
/** Phases in the order a rotation passes them (it never skips or goes back). */
const ORDER = ['overlap', 'reissue', 'retire', 'idle'];

const PHASES =
  'Phases: overlap (the new root joins every trust bundle; the old root still signs) -> reissue (the\n' +
  'new root signs; sidecars renew at once) -> retire (the old root leaves the bundle) -> idle. Each\n' +
  'phase advances on its own once every connected proxy (and any gone for less than the endpoint\n' +
  'grace) has ACKed the new bundle and, for reissue, holds a certificate from the new root.';

export const caStatusCommand: Command = {
  name: 'ca status',
  summary: 'show the mesh CA: rotation phase, roots and their expiry, proxies still on the old root',
  usage: 'ca status [-o table|json]',
  flags: [outputFlag(['table', 'json'])],
  details: PHASES,
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    expectPositionals(args, 0, 0, this.usage, this.name);
    const output = parseOutputFormat(args.string('output'), ['table', 'json'], this.name);
    const { api } = await ctx.connect();
    const status = await api.caStatus();
    ctx.io.stdout(output === 'json' ? toJson(status) : renderCaStatus(status, ctx.io.now()));
    return EXIT.ok;
  },
};

export const caRotateRootCommand: Command = {
  name: 'ca rotate-root',
  summary: 'replace the mesh root CA without dropping a request',
  usage: 'ca rotate-root [--wait [--timeout D]] [--root-validity D]',
  flags: [
    { name: 'wait', description: 'wait until the rotation is done, printing each phase' },
    { name: 'timeout', value: 'D', description: `with --wait: give up waiting after D (default ${DEFAULT_WAIT}); the rotation goes on` },
    { name: 'root-validity', value: 'D', description: 'how long the new root is valid, e.g. 3650d (default 10 years)' },
  ],
  details:
    `${PHASES}\n\n` +
    'The control plane generates the new root. weftctl.json in its data directory holds both roots\n' +
    'during the rotation and is re-issued from the new root: copy it again to machines that keep a\n' +
    'copy. Join tokens created before the reissue phase pin the old root: create new ones.\n\n' +
    'Example:\n  weftctl ca rotate-root --wait\n  weftctl ca status',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    expectPositionals(args, 0, 0, this.usage, this.name);
    if (args.has('timeout') && !args.has('wait')) throw new UsageError('--timeout goes with --wait', this.name);
    const validityMs = duration(args.string('root-validity'), '--root-validity', this.name);
    const timeoutMs = duration(args.string('timeout') ?? DEFAULT_WAIT, '--timeout', this.name);
    const { api } = await ctx.connect();
    const started = await api.rotateRoot({ rootValiditySeconds: Math.ceil(validityMs / 1000) });
    const incoming = started.roots.find((r) => r.role === 'new');
    ctx.io.stdout(`root rotation started: new root ${incoming?.fingerprint ?? '?'}\nphase ${started.phase}\n`);
    if (!args.has('wait')) {
      ctx.io.stderr('It advances on its own; follow it with `weftctl ca status`.\n');
      return EXIT.ok;
    }
    await waitForCompletion(api, ctx.io, started, timeoutMs);
    return EXIT.ok;
  },
};

/** Polls until the rotation that began with `started` is done, printing each new phase. */
async function waitForCompletion(api: AdminApi, io: Io, started: CaStatus, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let phase = started.phase;
  let status = started;
  for (;;) {
    if (status.phase === 'idle' && status.lastCompletedAtMs >= started.startedAtMs) {
      io.stdout(`rotation complete: every proxy holds a certificate from the new root, and the old root is retired\n`);
      return;
    }
    if (Date.now() > deadline) {
      throw new CliError(
        'WEFT_ERR_TIMEOUT',
        `the rotation is still in phase ${status.phase} after ${shortDuration(timeoutMs)}${status.waitingFor ? `, waiting for ${status.waitingFor}` : ''}. It goes on by itself: follow it with \`weftctl ca status\`; \`weftctl proxy remove PROXY_ID\` stops a proxy that will never catch up from holding it up`,
      );
    }
    await sleep(POLL_MS);
    status = await api.caStatus();
    // A phase shorter than the poll still happened: print every phase passed since the last poll.
    const from = ORDER.indexOf(phase);
    const to = ORDER.indexOf(status.phase);
    for (const passed of to > from && from >= 0 ? ORDER.slice(from + 1, to + 1) : status.phase !== phase ? [status.phase] : []) io.stdout(`phase ${passed}\n`);
    phase = status.phase;
  }
}

export function renderCaStatus(s: CaStatus, nowMs: number): string {
  const short = (fp: string): string => (fp ? fp.slice(0, SHORT_FINGERPRINT) : '-');
  const lines = [
    `PHASE:    ${s.phase}${s.phase === 'idle' ? '' : ` (since ${relativeTime(s.phaseSinceMs, nowMs)}; rotation started ${relativeTime(s.startedAtMs, nowMs)})`}`,
    `SIGNING:  root ${short(s.signingRootFingerprint)}${s.signer ? `, through intermediate ${short(s.signer.fingerprint)} (${s.signer.subject}, expires ${relativeTime(s.signer.notAfterMs, nowMs)})` : ''}`,
  ];
  if (s.phase === 'idle' && s.lastCompletedAtMs) lines.push(`LAST ROTATION: completed ${relativeTime(s.lastCompletedAtMs, nowMs)}`);
  if (s.waitingFor) lines.push(`WAITING FOR: ${s.waitingFor}`);
  const roots = renderTable(
    ['ROOT', 'ROLE', 'EXPIRES', 'SUBJECT'],
    s.roots.map((r) => [short(r.fingerprint), r.role, relativeTime(r.notAfterMs, nowMs), r.subject]),
  );
  const proxies = s.phase === 'idle' || s.proxies.length === 0
    ? ''
    : `\n${renderTable(
        ['PROXY', 'PROXY ID', 'CERT ROOT', 'ACKED BUNDLE', 'WAITING FOR'],
        s.proxies.map((p) => [`${p.service}.${p.namespace}`, p.proxyId.slice(0, 8), short(p.certificateRootFingerprint), p.ackedNewBundle ? 'yes' : 'no', p.waitingFor || '-']),
      )}`;
  return `${lines.join('\n')}\n\n${roots}${proxies}`;
}

function duration(text: string | undefined, flag: string, command: string): number {
  if (text === undefined) return 0;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new UsageError(`${flag} "${text}" is not a positive duration such as 30s, 10m or 3650d`, command);
  return ms;
}
