import { analysisInput } from '../analyze/analysis-input';
import { analyze, sortFindings } from '../analyze/analyze';
import { FINDINGS, type Severity } from '../analyze/finding';
import { fetchLiveState } from '../analyze/live-state';
import { loadFiles } from '../analyze/load-files';
import { renderFindings, renderSummary, summarize } from '../analyze/render-findings';
import type { ParsedArgs } from '../args';
import { EXIT, UsageError } from '../errors';
import { toJson } from '../output/format';
import type { Command, CommandContext } from './command';
import { expectPositionals, fileArgs, FILES_FLAG } from './shared-flags';

const THRESHOLDS: readonly Severity[] = ['warn', 'error'];

const CODES = Object.entries(FINDINGS)
  .map(([name, f]) => `  ${f.code}  ${name.padEnd(27)} ${f.severity}`)
  .join('\n');

export const analyzeCommand: Command = {
  name: 'analyze',
  summary: 'find mistakes in resource files before they are applied (a CI gate)',
  usage: 'analyze -f FILE [-f FILE...] [--against-control-plane] [--failure-threshold warn|error] [-o text|json]',
  flags: [
    FILES_FLAG,
    { name: 'against-control-plane', description: 'also analyse what the control plane holds (files replace live resources of the same kind and name) and its registered instances' },
    { name: 'failure-threshold', value: 'LEVEL', description: 'exit 1 when a finding is at or above LEVEL: warn or error (default error)' },
    { name: 'output', short: 'o', value: 'FORMAT', description: 'output format: text, json (default text)' },
  ],
  details:
    'Findings (code, name, default severity):\n' +
    `${CODES}\n\n` +
    'Offline, a service "exists" when a Route or ServicePolicy in the files is for it, or an\n' +
    'AuthorizationPolicy names it as a caller; with --against-control-plane, also when the control\n' +
    'plane has an instance of it. WA0003 needs --against-control-plane. Findings about live\n' +
    'resources name the file "control-plane".\n\n' +
    'Exit codes: 0 no finding at or above the threshold, 1 some finding is, 2 usage error.\n\n' +
    'Example:\n  weftctl analyze -f deploy/examples/policy.yaml\n  weftctl analyze -f routes.yaml --against-control-plane --failure-threshold warn -o json',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    expectPositionals(args, 0, 0, this.usage, this.name);
    const files = fileArgs(args, this.name);
    const threshold = (args.string('failure-threshold') ?? 'error') as Severity;
    if (!THRESHOLDS.includes(threshold)) throw new UsageError(`--failure-threshold ${threshold}: must be warn or error`, this.name);
    const output = args.string('output') ?? 'text';
    if (output !== 'text' && output !== 'json') throw new UsageError(`-o ${output}: must be one of text, json`, this.name);

    const loaded = await loadFiles(ctx, files);
    const live = args.has('against-control-plane') ? await fetchLiveState((await ctx.connect()).api) : undefined;
    const input = analysisInput(loaded.resources, live);
    const findings = sortFindings([...loaded.schemaFindings, ...analyze(input)], files);
    const summary = summarize(findings, threshold);
    if (output === 'json') ctx.io.stdout(toJson({ findings, ...summary }));
    else {
      ctx.io.stdout(renderFindings(findings));
      ctx.io.stderr(renderSummary(summary, input.resources.length));
    }
    return summary.failed ? EXIT.failed : EXIT.ok;
  },
};
