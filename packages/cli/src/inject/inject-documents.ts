import { isSeq, parseAllDocuments, YAMLSeq, type Document } from 'yaml';
import { INJECT, type InjectOptions } from './inject-options';
import { annotation, asArray, asObject, InjectRefusal, isOurContainer, podFacts, type PodTemplate } from './inject-pod';
import { initContainer, proxyContainer, tokenVolume, type JsonObject } from './weft-containers';

/** Where each kind keeps its pod template; kinds not listed pass through unless they hold containers. */
const TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** A refusal placed in its file and document, printed as `file: document N: Kind name: path: CODE: message`. */
export interface PlacedRefusal extends InjectRefusal {
  readonly source: string;
  /** 1-based, as `weftctl apply` counts. */
  readonly document: number;
  readonly resource: string;
}

export function formatRefusal(r: PlacedRefusal): string {
  return `${r.source}: document ${r.document}: ${r.resource}: ${r.path}: ${r.code}: ${r.message}`;
}

export type InjectResult = { readonly ok: true; readonly text: string; readonly injected: number } | { readonly ok: false; readonly refusals: readonly PlacedRefusal[] };

/**
 * Injects every workload of a multi-document YAML text. Documents that change are re-emitted by
 * the yaml library (other fields, comments and order kept); documents that do not change keep
 * their exact source text, so injecting an injected file gives it back byte for byte. Any
 * refusal fails the whole file: nothing half-injected is printed.
 */
export function injectDocuments(text: string, source: string, options: InjectOptions): InjectResult {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return { ok: true, text, injected: 0 };
  const refusals: PlacedRefusal[] = [];
  const parts: string[] = [];
  let injected = 0;
  docs.forEach((doc, i) => {
    const start = i === 0 ? 0 : (doc.range[0] ?? 0);
    const end = i + 1 < docs.length ? (docs[i + 1]?.range[0] ?? text.length) : text.length;
    const original = text.slice(start, end);
    const js = asObject(doc.toJS()) ?? {};
    const resource = `${String(js['kind'] ?? 'document')} ${String(asObject(js['metadata'])?.['name'] ?? '(no name)')}`;
    const place = (r: InjectRefusal): PlacedRefusal => Object.assign(r, { source, document: i + 1, resource });
    if (doc.errors.length > 0) {
      refusals.push(place(new InjectRefusal('WEFT_ERR_INJECT_PARSE', '(yaml)', doc.errors[0]?.message ?? 'invalid YAML')));
      return;
    }
    try {
      const before = JSON.stringify(js);
      if (injectDocument(doc, js, options) && JSON.stringify(doc.toJS()) !== before) {
        injected += 1;
        const out = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
        parts.push(i > 0 && !out.startsWith('---') ? `---\n${out}` : out);
        return;
      }
    } catch (err) {
      if (!(err instanceof InjectRefusal)) throw err;
      refusals.push(place(err));
    }
    parts.push(original);
  });
  return refusals.length > 0 ? { ok: false, refusals } : { ok: true, text: parts.join(''), injected };
}

/** Injects one document in place; false when it is not a workload or asks to be skipped. */
function injectDocument(doc: Document, js: JsonObject, options: InjectOptions): boolean {
  const kind = typeof js['kind'] === 'string' ? js['kind'] : '';
  const path = TEMPLATE_PATHS[kind];
  if (!path) {
    if (holdsContainers(js['spec'])) {
      throw new InjectRefusal('WEFT_ERR_INJECT_UNKNOWN_KIND', 'kind', `weftctl inject does not know where ${kind || 'this kind'} keeps its pod template; inject the Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob it is made from`);
    }
    return false;
  }
  const template = path.reduce<JsonObject | undefined>((o, key) => asObject(o?.[key]), js);
  const at = path.join('.');
  if (!template) throw new InjectRefusal('WEFT_ERR_INJECT_NO_POD_TEMPLATE', at, `${kind} without a pod template at ${at}`);
  const pod: PodTemplate = { workload: js, template, at };
  if (annotation(pod, INJECT.annotations.inject) === 'false') return false;
  const facts = podFacts(pod);

  const spec = [...path, 'spec'];
  const meta = [...path, 'metadata'];
  const keep = (key: string, drop: (item: unknown) => boolean): unknown[] => {
    const seq = doc.getIn([...spec, key], true);
    const items = isSeq(seq) ? seq.items : [];
    const values = asArray(asObject(template['spec'])?.[key]);
    return items.filter((_, i) => !drop(values[i]));
  };
  const seqOf = (items: unknown[]): YAMLSeq => {
    const seq = new YAMLSeq(doc.schema);
    seq.items = items;
    return seq;
  };
  const userInit = keep('initContainers', isOurContainer);
  doc.setIn([...spec, 'initContainers'], seqOf([doc.createNode(initContainer(facts, options)), doc.createNode(proxyContainer(facts, options)), ...userInit]));
  const isTokenVolume = (v: unknown): boolean => asObject(v)?.['name'] === INJECT.tokenVolume && asObject(v)?.['secret'] !== undefined;
  const volumes = keep('volumes', isTokenVolume);
  if (options.tokenAsFile) volumes.push(doc.createNode(tokenVolume(facts, options)));
  if (volumes.length > 0) doc.setIn([...spec, 'volumes'], seqOf(volumes));
  else doc.deleteIn([...spec, 'volumes']);

  doc.setIn([...meta, 'annotations', INJECT.annotations.status], 'injected');
  const appContainer = asObject(asArray(asObject(template['spec'])?.['containers'])[0])?.['name'];
  if (typeof appContainer === 'string' && !doc.hasIn([...meta, 'annotations', 'kubectl.kubernetes.io/default-container'])) {
    doc.setIn([...meta, 'annotations', 'kubectl.kubernetes.io/default-container'], appContainer);
  }
  return true;
}

/** Whether a value holds a `containers` list anywhere: a workload of a kind inject does not know. */
function holdsContainers(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(holdsContainers);
  const o = asObject(value);
  if (!o) return false;
  return Array.isArray(o['containers']) || Object.values(o).some(holdsContainers);
}
