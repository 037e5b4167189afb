import type { CompiledConfig } from '../config/compiled-config';
import type { IdentityMaterial } from '../control/identity-material';
import type { ProxyListener } from '../listener';
import type { SelfInfo } from '../self';
import type { Telemetry } from '../telemetry/telemetry';
import type { Watch } from '../watch';

export interface OutboundOptions {
  readonly host: string;
  readonly port: number;
  readonly self: SelfInfo;
  readonly identity: Watch<IdentityMaterial>;
  readonly config: Watch<CompiledConfig>;
  readonly telemetry: Telemetry;
}

/** CONTRACT: the app's calls to other services enter here (plain HTTP/1.1, Host or http_proxy). */
export async function startOutbound(_options: OutboundOptions): Promise<ProxyListener> {
  throw new Error('not implemented yet');
}
