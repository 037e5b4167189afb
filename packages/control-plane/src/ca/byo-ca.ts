import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { CertificateAuthority, keyProblem, signingProblem, splitPemChain, type CaMaterial } from '@weft/pki';
import { ControlPlaneError } from '../errors';

/** The files an operator brings at first start (`--ca-cert`, `--ca-key`, `--ca-chain`, `--root-cert`). */
export interface OperatorCaFiles {
  /** The CA that signs leaves: a root, or an intermediate below the operator's root. */
  readonly certFile: string;
  readonly keyFile: string;
  /** Certificates from above the signer up to (optionally including) the root, in order. */
  readonly chainFile?: string;
  /** The root workloads trust; found at the end of the chain (or is the signer) when not given. */
  readonly rootFile?: string;
}

interface Loaded {
  readonly pem: string;
  readonly x509: X509Certificate;
  /** `--ca-chain FILE`, for messages. */
  readonly from: string;
}

/**
 * Reads and checks an operator's CA: the key matches the certificate, every certificate is a CA
 * in its validity period, each one is signed by the next up to a self-signed root. Every error
 * names the flag and the file, and says what to bring instead.
 */
export async function loadOperatorCa(files: OperatorCaFiles, now = new Date()): Promise<CaMaterial> {
  const [signer, ...bundled] = (await readCertificates('--ca-cert', files.certFile)) as [Loaded, ...Loaded[]];
  const key = await readKey(files.keyFile);
  if (!signer.x509.checkPrivateKey(key)) {
    throw bad(`--ca-key ${files.keyFile} is not the key of the certificate in --ca-cert ${files.certFile}: bring the key that belongs to that certificate`);
  }
  const chain = [...bundled, ...(files.chainFile ? await readCertificates('--ca-chain', files.chainFile) : [])];
  const given = files.rootFile ? (await readCertificates('--root-cert', files.rootFile))[0] : undefined;
  const links: Loaded[] = [signer, ...chain];
  // The root may close the chain file; it is the trust anchor then, not an intermediate.
  const last = links[links.length - 1] as Loaded;
  const root = given ?? (selfSigned(last.x509) ? last : undefined);
  if (!root) {
    throw bad(`cannot tell which root workloads should trust: ${last.from} ends with ${subject(last)}, which is not self-signed. Pass --root-cert FILE (and --ca-chain FILE for any intermediates in between)`);
  }
  if (links.length > 1 && last.x509.fingerprint256 === root.x509.fingerprint256) links.pop();
  for (const cert of [...links, root]) checkUsable(cert, now);
  if (!selfSigned(root.x509)) {
    throw bad(`${root.from} (${subject(root)}) is not self-signed: workloads need a root as their trust anchor; pass the root above it with --root-cert`);
  }
  for (let i = 0; i + 1 < links.length; i++) {
    const [child, parent] = [links[i] as Loaded, links[i + 1] as Loaded];
    if (!signs(parent.x509, child.x509)) {
      throw bad(`${parent.from}: ${subject(parent)} did not sign ${subject(child)} (from ${child.from}): list the chain from the signing CA up to the root, in order`);
    }
  }
  const top = links[links.length - 1] as Loaded;
  if (top.x509.fingerprint256 !== root.x509.fingerprint256 && !signs(root.x509, top.x509)) {
    throw bad(`${root.from}: ${subject(root)} did not sign ${subject(top)} (from ${top.from}): pass the root that issued it, or add the missing intermediates with --ca-chain`);
  }
  const isRoot = links.length === 1 && top.x509.fingerprint256 === root.x509.fingerprint256;
  const material: CaMaterial = {
    certificatePem: signer.pem,
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ...(isRoot ? {} : { intermediatesPem: links.slice(1).map((c) => c.pem), rootPem: root.pem }),
  };
  try {
    CertificateAuthority.fromPem(material);
  } catch (err) {
    throw bad(`--ca-cert ${files.certFile} cannot be used to sign: ${(err as Error).message}`, err);
  }
  return material;
}

/** At least one certificate, or an error naming the file. */
async function readCertificates(flag: string, file: string): Promise<Loaded[]> {
  const text = await readFile(flag, file);
  const pems = splitPemChain(text);
  if (pems.length === 0) throw bad(`${flag} ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return pems.map((pem, i) => {
    try {
      return { pem, x509: new X509Certificate(pem), from: `${flag} ${file}${pems.length > 1 ? ` (certificate ${i + 1})` : ''}` };
    } catch (err) {
      throw bad(`${flag} ${file}: certificate ${i + 1} cannot be parsed: ${(err as Error).message}`, err);
    }
  });
}

async function readKey(file: string): Promise<KeyObject> {
  const text = await readFile('--ca-key', file);
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (err) {
    const encrypted = /ENCRYPTED|passphrase/i.test(`${text.slice(0, 100)} ${(err as Error).message}`);
    throw bad(
      encrypted
        ? `--ca-key ${file} is encrypted: give the control plane a decrypted copy (for example \`openssl pkey -in ${file} -out ca-key.pem\`), kept 0600`
        : `--ca-key ${file} is not a PEM private key: ${(err as Error).message}`,
      err,
    );
  }
  const problem = keyProblem(key);
  if (problem) {
    throw bad(`--ca-key ${file} cannot sign: ${problem}. Bring a signing CA on such a key (an ECDSA P-256 or RSA intermediate under any root will do)`);
  }
  return key;
}

async function readFile(flag: string, file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw bad(`${flag} ${file} cannot be read: ${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)}`, err);
  }
}

function checkUsable(cert: Loaded, now: Date): void {
  const problem = signingProblem(cert.pem);
  if (problem) throw bad(`${cert.from} (${subject(cert)}) cannot be used: ${problem}`);
  if (new Date(cert.x509.validFrom) > now) throw bad(`${cert.from} (${subject(cert)}) is not valid before ${new Date(cert.x509.validFrom).toISOString()}: check the clock, or bring a certificate valid now`);
  if (new Date(cert.x509.validTo) <= now) throw bad(`${cert.from} (${subject(cert)}) expired at ${new Date(cert.x509.validTo).toISOString()}: bring a current one`);
}

function signs(parent: X509Certificate, child: X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}

function selfSigned(cert: X509Certificate): boolean {
  return signs(cert, cert);
}

/** How messages name a certificate: its subject, or its serial when the subject is empty. */
function subject(cert: Loaded): string {
  const text = (cert.x509.subject ?? '').replace(/\n/g, ', ');
  return text ? JSON.stringify(text) : `the certificate with serial ${cert.x509.serialNumber}`;
}

function bad(message: string, cause?: unknown): ControlPlaneError {
  return new ControlPlaneError('WEFT_ERR_BAD_CA', message, cause === undefined ? undefined : { cause });
}
