import { applyCommand } from './apply';
import { authCommand } from './auth';
import { caRotateRootCommand, caStatusCommand } from './ca';
import type { Command } from './command';
import { deleteCommand } from './delete';
import { getCommand } from './get';
import { injectCommand } from './inject';
import { proxyRemoveCommand } from './proxy';
import { proxyStatusCommand } from './proxy-status';
import { tokenCreateCommand, tokenListCommand, tokenRevokeCommand } from './token';
import { versionCommand } from './version';

/** Every command, in the order `weftctl --help` lists them. */
export const COMMANDS: readonly Command[] = [applyCommand, getCommand, deleteCommand, tokenCreateCommand, tokenListCommand, tokenRevokeCommand, proxyStatusCommand, proxyRemoveCommand, injectCommand, caStatusCommand, caRotateRootCommand, authCommand, versionCommand];
