import type { ParsedArgs } from '../args';
import { CliError, EXIT, UsageError } from '../errors';
import { defaultInjectOptions, INJECT, type InjectOptions } from '../inject/inject-options';
import { formatRefusal, injectDocuments } from '../inject/inject-documents';
import type { Command, CommandContext } from './command';
import { expectPositionals } from './shared-flags';

function injectOptions(args: ParsedArgs, command: string): InjectOptions {
  const defaults = defaultInjectOptions();
  const uidText = args.string('proxy-uid');
  const proxyUid = uidText === undefined ? defaults.proxyUid : Number(uidText);
  if (!Number.isInteger(proxyUid) || proxyUid < 1 || proxyUid > 2 ** 31 - 1) throw new UsageError(`--proxy-uid "${uidText}" must be a uid >= 1 (the sidecar never runs as root)`, command);
  const controlPlane = args.string('control-plane') ?? defaults.controlPlane;
  if (!/^[^\s:]+:\d{1,5}$/.test(controlPlane)) throw new UsageError(`--control-plane "${controlPlane}" is not HOST:PORT`, command);
  return {
    image: args.string('image') ?? defaults.image,
    controlPlane,
    proxyUid,
    tokenSecret: args.string('token-secret') ?? defaults.tokenSecret,
    tokenAsFile: args.has('token-file'),
    dns: args.has('dns'),
  };
}

export const injectCommand: Command = {
  name: 'inject',
  summary: 'add the Weft sidecar and its capture step to Kubernetes workloads',
  usage: 'inject -f FILE [-o FILE] [flags]',
  flags: [
    { name: 'file', short: 'f', value: 'FILE', description: 'Kubernetes YAML, one or more documents; "-" reads stdin (required)' },
    { name: 'output', short: 'o', value: 'FILE', description: 'write the result to FILE instead of stdout' },
    { name: 'image', value: 'IMAGE', description: `image with weft-sidecar and weft-init (default "${defaultInjectOptions().image}")` },
    { name: 'control-plane', value: 'HOST:PORT', description: `the control plane as pods reach it (default "${defaultInjectOptions().controlPlane}")` },
    { name: 'proxy-uid', value: 'UID', description: `uid and gid the sidecar runs as; weft-init leaves its traffic uncaptured (default ${defaultInjectOptions().proxyUid})` },
    { name: 'token-secret', value: 'NAME', description: 'Secret holding the join token under key "token"; {service} is the service name (default "weft-token-{service}")' },
    { name: 'token-file', description: 'mount the token Secret as a file (--token-file) instead of the WEFT_TOKEN env variable' },
    { name: 'dns', description: "capture the app's DNS to the sidecar's responder for mesh names (weft-init --dns)" },
  ],
  details:
    'Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs get two init containers:\n' +
    `${INJECT.initName} (iptables capture, NET_ADMIN and NET_RAW) and ${INJECT.proxyName}, a native sidecar (restartPolicy: Always,\n` +
    'Kubernetes >= 1.29) that the app waits for and that stops after the app. Other kinds pass through unchanged.\n' +
    'Injecting an injected file gives it back unchanged. The service comes from the annotation weft.io/service,\n' +
    'else the label app.kubernetes.io/name or app; the app port from weft.io/app-port, else the first containerPort.\n' +
    'weft.io/inject: "false" skips a workload. One refused document means nothing is written.\n\n' +
    'Example:\n  weftctl inject -f deploy/kubernetes/sample/orders.yaml | kubectl apply -f -',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    expectPositionals(args, 0, 0, this.usage, this.name);
    const file = args.string('file');
    if (file === undefined) throw new UsageError('inject needs -f FILE (-f - reads stdin)', this.name);
    const options = injectOptions(args, this.name);
    let text: string;
    try {
      text = file === '-' ? await ctx.io.readStdin(64 * 1024 * 1024) : await ctx.io.readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new CliError('WEFT_ERR_READ', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)}`);
    }
    const result = injectDocuments(text, file === '-' ? 'stdin' : file, options);
    if (!result.ok) {
      throw new CliError('WEFT_ERR_INJECT_REFUSED', [...result.refusals.map(formatRefusal), 'nothing was injected'].join('\n'), { plain: true });
    }
    const out = args.string('output');
    if (out === undefined || out === '-') ctx.io.stdout(result.text);
    else {
      try {
        await ctx.io.writeFile(out, result.text);
      } catch (err) {
        throw new CliError('WEFT_ERR_WRITE', `cannot write ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    ctx.io.stderr(`${result.injected} workload(s) injected\n`);
    return EXIT.ok;
  },
};
