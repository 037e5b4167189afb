export { run, main, type RunOptions } from './main';
export { parseArgs, ParsedArgs, type FlagSpec } from './args';
export { loadClientConfig, locateConfig, type ClientConfig, type LoadedConfig } from './client-config';
export { connectAdmin, checkControlPlaneIdentity, describeGrpcError, type AdminApi } from './admin-client';
export { deriveProxyStatus, type ProxySyncStatus } from './proxy-sync-status';
export { renderTable } from './output/table';
export { relativeTime, shortDuration, truncate, toJson, toYamlDocuments, type OutputFormat } from './output/format';
export { UsageError, CliError, EXIT } from './errors';
export { processIo, type Io } from './io';
