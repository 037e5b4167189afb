import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { inject } from './inject-run';
import { kubernetesProblems } from './kubernetes-schema';

const KUBE_DIR = path.resolve(__dirname, '../../../../deploy/kubernetes');
const SAMPLE_DIR = path.join(KUBE_DIR, 'sample');
const read = (file: string): string => readFileSync(file, 'utf8');

describe('Kubernetes manifests in deploy/kubernetes (schema check)', () => {
  it('every manifest passes the schema check, and kustomization.yaml lists files that exist', () => {
    const files = readdirSync(KUBE_DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect(files).to.include.members(['namespace.yaml', 'rbac.yaml', 'control-plane.yaml', 'ca-secret.example.yaml']);
    for (const file of files) expect(kubernetesProblems(read(path.join(KUBE_DIR, file)), file), file).to.deep.equal([]);
    const kustomization = parseYaml(read(path.join(KUBE_DIR, 'kustomization.yaml'))) as { resources: string[] };
    expect(kustomization.resources).to.deep.equal(['namespace.yaml', 'rbac.yaml', 'control-plane.yaml']);
  });

  it('the control plane: one replica, data on a claim, probes on its HTTP port, non-root with a read-only root', () => {
    const docs = read(path.join(KUBE_DIR, 'control-plane.yaml')).split(/^---$/m).map((d) => parseYaml(d) as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
    const sts = docs.find((d) => d['kind'] === 'StatefulSet');
    const service = docs.find((d) => d['kind'] === 'Service');
    expect(sts?.['spec']['replicas']).to.equal(1);
    expect(sts?.['spec']['volumeClaimTemplates'][0]['metadata']['name']).to.equal('data');
    const c = sts?.['spec']['template']['spec']['containers'][0];
    expect(c['readinessProbe']['httpGet']).to.deep.equal({ path: '/ready', port: 'http-monitoring' });
    expect(c['livenessProbe']['httpGet']).to.deep.equal({ path: '/live', port: 'http-monitoring' });
    expect(c['securityContext']['readOnlyRootFilesystem']).to.equal(true);
    expect(sts?.['spec']['template']['spec']['securityContext']['runAsNonRoot']).to.equal(true);
    expect(c['args'][0]).to.contain('--data-dir /var/lib/weft/data').and.contain('--ca-cert "$ca/tls.crt" --ca-key "$ca/tls.key"');
    expect(service?.['spec']['ports'].map((p: { port: number }) => p.port)).to.deep.equal([15012, 15014]);
  });

  it('the checked-in sample is the inject output of its input, and both pass the schema check', async () => {
    const input = read(path.join(SAMPLE_DIR, 'app.yaml'));
    const injected = read(path.join(SAMPLE_DIR, 'app-injected.yaml'));
    expect(kubernetesProblems(input, 'app.yaml')).to.deep.equal([]);
    expect(kubernetesProblems(injected, 'app-injected.yaml')).to.deep.equal([]);
    const { out } = await inject(input);
    expect(injected, 'regenerate with: weftctl inject -f deploy/kubernetes/sample/app.yaml -o deploy/kubernetes/sample/app-injected.yaml').to.equal(out);
  });

  it('the schema check reports a broken manifest: a wrong type, a missing required field, an unknown kind', () => {
    const broken = [
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: two, selector: {}, template: {spec: {containers: [{name: a}]}}}\n',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{image: a}]}\n',
      'apiVersion: v1\nkind: Podd\nmetadata: {name: q}\n',
    ].join('---\n');
    const problems = kubernetesProblems(broken, 'broken.yaml');
    expect(problems).to.have.length(3);
    expect(problems[0]).to.contain('broken.yaml: document 1: Deployment d: data/spec/replicas must be integer');
    expect(problems[1]).to.equal('broken.yaml: document 2: Pod p: data/spec/containers/0 must have required property name');
    expect(problems[2]).to.equal('broken.yaml: document 3: Podd q: no schema for v1 Podd');
  });
});
