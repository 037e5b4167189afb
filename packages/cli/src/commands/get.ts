import { DEFAULT_TRUST_DOMAIN, KINDS, resolveKind, type PolicyKind, type PolicyResource, type ServicePolicy } from '@weft/api';
import type { ParsedArgs } from '../args';
import { CliError, EXIT, UsageError } from '../errors';
import { parseOutputFormat, toJson, toYamlDocuments, type OutputFormat } from '../output/format';
import { proxyViews, renderProxyTable } from '../views/proxy-table';
import { kindPlural, renderResourceTable } from '../views/resource-table';
import { renderServiceTable, sortServices } from '../views/service-table';
import type { Command, CommandContext } from './command';
import { ALL_NAMESPACES_FLAG, NAMESPACE_FLAG, checkName, expectPositionals, namespaceOf, outputFlag } from './shared-flags';

/** The read-only views next to the stored kinds. */
type ViewKind = 'services' | 'proxies';
const VIEW_KINDS: Readonly<Record<string, ViewKind>> = { services: 'services', service: 'services', svc: 'services', proxies: 'proxies', proxy: 'proxies' };
const KIND_LIST = [...Object.values(KINDS).map((k) => k.plural), 'services', 'proxies'].join(', ');

interface Scope {
  /** '' means every namespace. */
  readonly namespace: string;
  readonly name: string | undefined;
  readonly output: OutputFormat;
}

function emit(ctx: CommandContext, scope: Scope, items: readonly unknown[], table: () => string, what: string): void {
  if (scope.output === 'json') ctx.io.stdout(toJson(scope.name !== undefined && what !== 'proxies' ? items[0] : items));
  else if (scope.output === 'yaml') ctx.io.stdout(toYamlDocuments(items));
  else if (items.length === 0) ctx.io.stderr(`No ${what} found${scope.namespace ? ` in namespace "${scope.namespace}"` : ''}.\n`);
  else ctx.io.stdout(table());
}

function notFound(what: string, scope: Scope): CliError {
  const where = scope.namespace ? ` in namespace "${scope.namespace}"` : '';
  return new CliError('WEFT_ERR_NOT_FOUND', `${what} "${scope.name}" not found${where}`);
}

async function getPolicy(ctx: CommandContext, kind: PolicyKind, scope: Scope): Promise<void> {
  const { api, config } = await ctx.connect();
  const namespace = KINDS[kind].namespaced ? scope.namespace : '';
  const response = await api.get({ kind, namespace, name: scope.name ?? '' });
  const items = response.itemsJson.map((json) => JSON.parse(json) as PolicyResource);
  if (scope.name !== undefined && items.length === 0) throw notFound(kind, { ...scope, namespace });
  const trustDomain = config.config.trustDomain || DEFAULT_TRUST_DOMAIN;
  emit(ctx, { ...scope, namespace }, items, () => renderResourceTable(kind, items, trustDomain), kindPlural(kind));
}

async function getView(ctx: CommandContext, view: ViewKind, scope: Scope): Promise<void> {
  const { api } = await ctx.connect();
  const inScope = (ns: string, service: string): boolean =>
    (!scope.namespace || ns === scope.namespace) && (scope.name === undefined || service === scope.name);
  if (view === 'services') {
    const services = sortServices((await api.listServices()).services.filter((s) => inScope(s.namespace, s.service)));
    if (scope.name !== undefined && services.length === 0) throw notFound('service', scope);
    // The table shows subsets too; they are defined by ServicePolicies, so only the table asks for them.
    const policies = scope.output === 'table' && services.length > 0 ? await servicePolicies(ctx, scope.namespace) : [];
    emit(ctx, scope, services, () => renderServiceTable(services, policies), 'services');
  } else {
    // A name selects a service, which may run several proxies: the answer stays a list.
    const proxies = proxyViews((await api.listProxies()).proxies.filter((p) => inScope(p.namespace, p.service)));
    emit(ctx, scope, proxies, () => renderProxyTable(proxies, ctx.io.now()), 'proxies');
  }
}

async function servicePolicies(ctx: CommandContext, namespace: string): Promise<ServicePolicy[]> {
  const { api } = await ctx.connect();
  const response = await api.get({ kind: 'ServicePolicy', namespace, name: '' });
  return response.itemsJson.map((json) => JSON.parse(json) as ServicePolicy);
}

export const getCommand: Command = {
  name: 'get',
  summary: 'list resources, services or proxies, or show one',
  usage: 'get KIND [NAME] [-n NS | -A] [-o table|json|yaml]',
  flags: [NAMESPACE_FLAG, ALL_NAMESPACES_FLAG, outputFlag(['table', 'json', 'yaml'])],
  details:
    `KIND is one of ${KIND_LIST}\n(singular names and short names such as rt, sp, ap, svc are accepted).\n` +
    '-o json prints an array for a list and an object for one NAME; -o yaml prints documents that\n' +
    '`weftctl apply -f -` accepts. `get proxies NAME` lists the proxies of service NAME.\n\n' +
    'Examples:\n  weftctl get routes -A\n  weftctl get route reviews -o yaml\n  weftctl get services',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    const [kindText, name] = expectPositionals(args, 1, 2, this.usage, this.name);
    if (args.has('namespace') && args.has('all-namespaces')) throw new UsageError('use either -n NS or -A, not both', this.name);
    if (name !== undefined && args.has('all-namespaces')) throw new UsageError('a NAME cannot be looked up across all namespaces (-A); use -n NS', this.name);
    const scope: Scope = {
      namespace: args.has('all-namespaces') ? '' : namespaceOf(args, this.name),
      name: name === undefined ? undefined : checkName(name, 'name', this.name),
      output: parseOutputFormat(args.string('output'), ['table', 'json', 'yaml'], this.name),
    };
    const view = VIEW_KINDS[(kindText as string).toLowerCase()];
    if (view) {
      await getView(ctx, view, scope);
      return EXIT.ok;
    }
    const kind = resolveKind(kindText as string);
    if (!kind) throw new UsageError(`unknown kind "${kindText}": use one of ${KIND_LIST}`, this.name);
    await getPolicy(ctx, kind, scope);
    return EXIT.ok;
  },
};
