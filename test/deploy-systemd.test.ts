import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '@weft/harness';

/** A unit file as section -> key -> values (continuation lines joined), enough to check what the units promise. */
function unit(name: string): Map<string, Map<string, string[]>> {
  const text = readFileSync(path.join(repoRoot(), 'deploy', 'systemd', name), 'utf8').replace(/\\\n/g, ' ');
  const sections = new Map<string, Map<string, string[]>>();
  let current = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) sections.set(header[1] as string, (current = new Map()));
    else {
      const eq = line.indexOf('=');
      const key = line.slice(0, eq);
      current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
    }
  }
  return sections;
}

describe('deploy/systemd units for VM installs', () => {
  const init = unit('weft-init@.service');
  const sidecar = unit('weft-sidecar@.service');

  it('weft-init@ is a oneshot that installs capture before the sidecar and removes it on stop', () => {
    const service = init.get('Service');
    expect(service?.get('Type')).to.deep.equal(['oneshot']);
    expect(service?.get('RemainAfterExit')).to.deep.equal(['yes']);
    expect(init.get('Unit')?.get('Before')).to.deep.equal(['weft-sidecar@%i.service']);
    expect(init.get('Install')?.get('RequiredBy')).to.deep.equal(['weft-sidecar@%i.service']);
    const start = service?.get('ExecStart')?.[0] ?? '';
    const stop = service?.get('ExecStop')?.[0] ?? '';
    expect(start).to.contain('weft-init.js').and.not.contain('--uninstall');
    expect(stop).to.contain('weft-init.js --uninstall');
    // Both name the same rules: uninstall removes exactly what install put there.
    expect(stop.replace(' --uninstall', '')).to.equal(start);
  });

  it('the sidecar runs as the user weft-init leaves uncaptured, and announces the host address', () => {
    const service = sidecar.get('Service');
    const user = service?.get('User')?.[0];
    expect(user).to.equal('weft-proxy');
    const start = init.get('Service')?.get('ExecStart')?.[0] ?? '';
    expect(start).to.contain(`--proxy-uid "$$(id -u ${user})"`).and.contain(`--proxy-gid "$$(id -g ${user})"`);
    expect(service?.get('ExecStart')?.[0]).to.contain('--advertise-address ${WEFT_ADVERTISE}');
  });
});
