import { parseAllDocuments } from 'yaml';

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

/**
 * Checks Kubernetes manifests offline against the API's OpenAPI schemas, as compiled by the
 * kubernetes-models package (types, required fields, enums, formats). Debian's kubectl cannot do
 * it here: `kubectl apply --dry-run=client` and `kubectl create --dry-run=client` both ask a
 * server for the schemas first. Unknown fields are not reported (the compiled schemas allow
 * them), so tests that care about one field check it themselves.
 * Returns one line per problem: `source: document N: Kind name: message`.
 */
export function kubernetesProblems(text: string, source: string): string[] {
  const problems: string[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    const where = `${source}: document ${i + 1}`;
    if (doc.errors.length > 0) return void problems.push(`${where}: ${doc.errors[0]?.message}`);
    const js = doc.toJS() as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } } | null;
    if (js === null) return;
    const { apiVersion, kind } = js;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !/^[A-Za-z0-9./]+$/.test(apiVersion) || !/^[A-Za-z]+$/.test(kind)) {
      return void problems.push(`${where}: apiVersion and kind are required`);
    }
    const resource = `${where}: ${kind} ${String(js.metadata?.name)}`;
    let Model: ModelClass;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      Model = (require(`kubernetes-models/${apiVersion}/${kind}`) as Record<string, ModelClass>)[kind] as ModelClass;
    } catch {
      return void problems.push(`${resource}: no schema for ${apiVersion} ${kind}`);
    }
    try {
      new Model(js).validate();
    } catch (err) {
      problems.push(`${resource}: ${(err as Error).message}`);
    }
  });
  return problems;
}
