import { applyCommand } from './apply';
import type { Command } from './command';
import { deleteCommand } from './delete';
import { getCommand } from './get';
import { proxyStatusCommand } from './proxy-status';
import { tokenCreateCommand } from './token';

/** Every command, in the order `weftctl --help` lists them. */
export const COMMANDS: readonly Command[] = [applyCommand, getCommand, deleteCommand, tokenCreateCommand, proxyStatusCommand];
