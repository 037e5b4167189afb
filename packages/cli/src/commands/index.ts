import { analyzeCommand } from './analyze';
import { applyCommand } from './apply';
import { authCommand } from './auth';
import { caRotateRootCommand, caStatusCommand } from './ca';
import { checkCommand } from './check';
import type { Command } from './command';
import { deleteCommand } from './delete';
import { getCommand } from './get';
import { injectCommand } from './inject';
import { proxyRemoveCommand } from './proxy';
import { proxyConfigCommand } from './proxy-config';
import { proxyStatusCommand } from './proxy-status';
import { tokenCreateCommand, tokenListCommand, tokenRevokeCommand } from './token';
import { versionCommand } from './version';
import { edgesCommand } from './edges';
import { statCommand } from './stat';
import { tapCommand } from './tap';
import { topCommand } from './top';

/** Every command, in the order `weftctl --help` lists them. */
export const COMMANDS: readonly Command[] = [applyCommand, getCommand, deleteCommand, analyzeCommand, tokenCreateCommand, tokenListCommand, tokenRevokeCommand, proxyStatusCommand, proxyConfigCommand, proxyRemoveCommand, injectCommand, caStatusCommand, caRotateRootCommand, authCommand, checkCommand, statCommand, topCommand, tapCommand, edgesCommand, versionCommand];
