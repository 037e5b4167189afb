import type { CompiledConfig } from '../config/compiled-config';
import type { IdentityMaterial } from '../control/identity-material';
import type { ProxyListener } from '../listener';
import type { SelfInfo } from '../self';
import type { Telemetry } from '../telemetry/telemetry';
import type { Watch } from '../watch';

export interface InboundOptions {
  readonly host: string;
  readonly port: number;
  /** The local app, reached on 127.0.0.1 unless appHost says otherwise. */
  readonly appPort: number;
  readonly appHost?: string;
  readonly self: SelfInfo;
  readonly identity: Watch<IdentityMaterial>;
  readonly config: Watch<CompiledConfig>;
  readonly telemetry: Telemetry;
}

/** CONTRACT: other sidecars reach this instance here, over mTLS. */
export async function startInbound(_options: InboundOptions): Promise<ProxyListener> {
  throw new Error('not implemented yet');
}
