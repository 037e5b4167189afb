import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { run } from '../src/main';
import { inject } from './inject-run';
import { kubernetesProblems } from './kubernetes-schema';
import { memoryIo } from './memory-io';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const DEPLOYMENT = `# the orders service
apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders
  labels: {app: orders}
spec:
  selector: {matchLabels: {app: orders}}
  template:
    metadata:
      labels: {app: orders, version: v2}
    spec:
      initContainers:
        - name: migrate # runs after the sidecar is up
          image: orders-migrate:1
      containers:
        - name: orders
          image: orders:1
          ports: [{containerPort: 8080}, {containerPort: 9090, name: grpc}, {containerPort: 5353, protocol: UDP}]
`;
const SERVICE = `---
apiVersion: v1
kind: Service
metadata: {name: orders}   # kept as written
spec: {selector: {app: orders}, ports: [{port: 8080}]}
`;


function docs(text: string): Obj[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Obj);
}

function arg(container: Obj, flag: string): string | undefined {
  const args = container['args'] as string[];
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

describe('weftctl inject', () => {
  it('adds weft-init and the native sidecar before the app init containers, keeps the rest, and passes the schema check', async () => {
    const { code, out, err } = await inject(DEPLOYMENT + SERVICE);
    expect(code, err).to.equal(0);
    expect(kubernetesProblems(out, 'inject output')).to.deep.equal([]);
    const [deployment, service] = docs(out) as [Obj, Obj];
    const pod = deployment['spec']['template'];
    const [init, proxy, migrate] = pod['spec']['initContainers'] as Obj[];
    expect([init?.['name'], proxy?.['name'], migrate?.['name']]).to.deep.equal(['weft-init', 'weft-proxy', 'migrate']);
    expect(pod['spec']['containers']).to.have.length(1);
    // Capture: NET_ADMIN/NET_RAW, the sidecar's uid left uncaptured, the app's TCP ports captured.
    expect(init?.['securityContext']['capabilities']['add']).to.deep.equal(['NET_ADMIN', 'NET_RAW']);
    expect(arg(init as Obj, '--proxy-uid')).to.equal(String(proxy?.['securityContext']['runAsUser']));
    expect(arg(init as Obj, '--inbound-ports')).to.equal('8080,9090');
    expect(arg(init as Obj, '--control-plane-port')).to.equal('15012');
    // Native sidecar: gates the app on /ready, runs as a fixed non-root uid.
    expect(proxy?.['restartPolicy']).to.equal('Always');
    expect(proxy?.['startupProbe']['httpGet']).to.deep.equal({ path: '/ready', port: 15000 });
    expect(proxy?.['securityContext']).to.include({ runAsUser: 1337, runAsNonRoot: true, readOnlyRootFilesystem: true });
    expect(arg(proxy as Obj, '--service')).to.equal('orders');
    expect(arg(proxy as Obj, '--app-port')).to.equal('8080');
    expect(arg(proxy as Obj, '--labels')).to.equal('app=orders,version=v2');
    // The token comes from a Secret, never from the manifest.
    expect(proxy?.['env']).to.deep.include({ name: 'WEFT_TOKEN', valueFrom: { secretKeyRef: { name: 'weft-token-orders', key: 'token' } } });
    expect(proxy?.['args']).to.not.include('--token');
    expect(pod['metadata']['annotations']).to.deep.equal({ 'weft.io/status': 'injected', 'kubectl.kubernetes.io/default-container': 'orders' });
    // Comments and documents it does not change stay as written.
    expect(out.startsWith('# the orders service\n')).to.equal(true);
    expect(out).to.contain('- name: migrate # runs after the sidecar is up');
    expect(out.endsWith(SERVICE)).to.equal(true);
    expect(service['kind']).to.equal('Service');
    expect(err).to.equal('1 workload(s) injected\n');
  });

  it('is idempotent: injecting its own output gives it back byte for byte', async () => {
    for (const flags of [[], ['--token-file', '--dns']]) {
      const once = await inject(DEPLOYMENT + SERVICE, flags);
      const twice = await inject(once.out, flags);
      expect(twice.code).to.equal(0);
      expect(twice.out).to.equal(once.out);
    }
  });

  it('re-injecting with other flags replaces its own containers instead of adding more', async () => {
    const once = await inject(DEPLOYMENT, ['--image', 'weft/weft:old', '--token-file']);
    const again = await inject(once.out, ['--image', 'weft/weft:new']);
    const spec = (docs(again.out)[0] as Obj)['spec']['template']['spec'];
    expect((spec['initContainers'] as Obj[]).map((c) => `${c['name']} ${c['image']}`)).to.deep.equal(['weft-init weft/weft:new', 'weft-proxy weft/weft:new', 'migrate orders-migrate:1']);
    expect(spec['volumes'], 'the token volume of --token-file is gone').to.equal(undefined);
  });

  it('--token-file mounts the Secret and passes --token-file; --dns asks weft-init for DNS capture and the sidecar for its responder', async () => {
    const { out } = await inject(DEPLOYMENT, ['--token-file', '--token-secret', 'mesh-{service}', '--dns', '--proxy-uid', '2102']);
    expect(kubernetesProblems(out, 'inject output')).to.deep.equal([]);
    const spec = (docs(out)[0] as Obj)['spec']['template']['spec'];
    const [init, proxy] = spec['initContainers'] as Obj[];
    expect(spec['volumes']).to.deep.equal([{ name: 'weft-token', secret: { secretName: 'mesh-orders' } }]);
    expect(proxy?.['volumeMounts']).to.deep.equal([{ name: 'weft-token', mountPath: '/var/run/secrets/weft', readOnly: true }]);
    expect(arg(proxy as Obj, '--token-file')).to.equal('/var/run/secrets/weft/token');
    expect((proxy?.['env'] as Obj[]).map((e) => e['name'])).to.not.include('WEFT_TOKEN');
    expect(init?.['args']).to.include('--dns');
    expect(arg(proxy as Obj, '--dns-port')).to.equal('15053');
    expect(arg(init as Obj, '--proxy-uid')).to.equal('2102');
    expect(proxy?.['securityContext']['runAsUser']).to.equal(2102);
  });

  it('finds the pod template of Pods, StatefulSets, DaemonSets and CronJobs; the service from weft.io/service or app.kubernetes.io/name', async () => {
    const container = 'containers: [{name: app, image: app:1, ports: [{containerPort: 7000}]}]';
    const input = [
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app.kubernetes.io/name: pods, app: ignored}}\nspec: {${container}}\n`,
      `apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec:\n  serviceName: s\n  selector: {matchLabels: {app: s}}\n  template:\n    metadata: {labels: {app: s}, annotations: {weft.io/service: ledger}}\n    spec: {${container}}\n`,
      `apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec: {${container}}\n`,
      `apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, labels: {app: nightly}}\nspec:\n  schedule: "0 3 * * *"\n  jobTemplate:\n    spec:\n      template:\n        spec: {restartPolicy: Never, ${container}}\n`,
    ].join('---\n');
    const { code, out, err } = await inject(input);
    expect(code, err).to.equal(0);
    expect(kubernetesProblems(out, 'inject output')).to.deep.equal([]);
    const [pod, sts, ds, cron] = docs(out) as [Obj, Obj, Obj, Obj];
    const proxyOf = (spec: Obj): Obj => (spec['initContainers'] as Obj[])[1] as Obj;
    expect(arg(proxyOf(pod['spec']), '--service')).to.equal('pods');
    expect(arg(proxyOf(sts['spec']['template']['spec']), '--service')).to.equal('ledger');
    expect(arg(proxyOf(ds['spec']['template']['spec']), '--service')).to.equal('agent');
    expect(arg(proxyOf(cron['spec']['jobTemplate']['spec']['template']['spec']), '--service')).to.equal('nightly');
    expect(err).to.equal('4 workload(s) injected\n');
  });

  it('skips workloads annotated weft.io/inject: "false" and passes other kinds through', async () => {
    const skipped = DEPLOYMENT.replace('labels: {app: orders, version: v2}', 'labels: {app: orders}\n      annotations: {weft.io/inject: "false"}');
    const cm = '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {containers: "[]"}\n';
    const { code, out } = await inject(skipped + cm);
    expect(code).to.equal(0);
    expect(out).to.equal(skipped + cm);
  });

  it('reads stdin with -f - and writes -o FILE', async () => {
    const io = memoryIo({}, { stdin: DEPLOYMENT });
    expect(await run(['inject', '-f', '-', '-o', '/out.yaml'], io)).to.equal(0);
    expect(io.out).to.equal('');
    expect(io.written['/out.yaml']).to.contain('name: weft-proxy');
  });

  describe('refuses what it cannot inject, naming file, document and field, and writes nothing', () => {
    const refusals: [string, string, string, string][] = [
      ['a pod on the host network', DEPLOYMENT.replace('      containers:', '      hostNetwork: true\n      containers:'), 'spec.template.spec.hostNetwork', 'WEFT_ERR_INJECT_HOST_NETWORK'],
      ['a pod with no containers', 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: p}}\nspec: {containers: []}\n', 'spec.containers', 'WEFT_ERR_INJECT_NO_CONTAINERS'],
      ['an unknown kind that runs containers', 'apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec: {template: {spec: {containers: [{name: a, image: a}]}}}\n', 'kind', 'WEFT_ERR_INJECT_UNKNOWN_KIND'],
      ['a Deployment without a pod template', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1}\n', 'spec.template', 'WEFT_ERR_INJECT_NO_POD_TEMPLATE'],
      ['an app container named weft-proxy', DEPLOYMENT.replace('- name: orders\n', '- name: weft-proxy\n'), 'spec.template.spec.containers[0].name', 'WEFT_ERR_INJECT_NAME_TAKEN'],
      ['an init container named weft-init that is not ours', DEPLOYMENT.replace('- name: migrate', '- name: weft-init'), 'spec.template.spec.initContainers[0]', 'WEFT_ERR_INJECT_NAME_TAKEN'],
      ['a pod with no service label', DEPLOYMENT.replace('labels: {app: orders, version: v2}', 'labels: {tier: backend}').replace('labels: {app: orders}\n', 'labels: {}\n'), 'spec.template.metadata.labels', 'WEFT_ERR_INJECT_NO_SERVICE'],
      ['a pod with no TCP port', DEPLOYMENT.replace(/ports: .*\n/, 'ports: [{containerPort: 53, protocol: UDP}]\n'), 'spec.template.spec.containers', 'WEFT_ERR_INJECT_NO_APP_PORT'],
    ];
    for (const [what, doc, field, code] of refusals) {
      it(what, async () => {
        const res = await inject(SERVICE.replace(/^---\n/, '') + '---\n' + doc);
        expect(res.code).to.equal(1);
        expect(res.out).to.equal('');
        expect(res.err).to.match(new RegExp(`^/in\\.yaml: document 2: \\S+ \\S+: ${field.replace(/[.[\]]/g, '\\$&')}: ${code}: `));
        expect(res.err).to.contain('nothing was injected');
      });
    }
  });
});
