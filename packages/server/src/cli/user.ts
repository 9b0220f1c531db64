// `loire user add|passwd|disable|enable|list`: accounts from the command line, on the same
// database as the server (which may be running: the change takes effect at once). Passwords are
// never taken from arguments (they would show in the process list and shell history): typed at a
// prompt without echo, or read from the first line of standard input when it is not a terminal.
import type { Command } from 'commander';
import { loadConfig, type CliOptions } from '../config/config.js';
import { openArchive } from '../archive.js';
import { silentLogger } from '../logger.js';
import { AccountError, type Account, type AccountService } from '../security/accounts.js';
import { updateKeepingAnAdministrator } from '../security/auth-routes.js';
import { ROLES } from '../security/permissions.js';

async function withAccounts(options: CliOptions, work: (accounts: AccountService) => Promise<number>): Promise<number> {
  const archive = await openArchive(loadConfig(options), silentLogger());
  try {
    return await work(archive.accounts);
  } catch (error) {
    if (!(error instanceof AccountError)) throw error;
    process.stderr.write(`loire user: ${error.message}\n`);
    return error.code === 'not-found' ? 3 : 1;
  } finally {
    await archive.close();
  }
}

function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (error?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error); else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || ch === '\u0004') return finish(new AccountError('invalid', 'cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).includes(0x0a) || Buffer.concat(chunks).length > 4096) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

/** The new password: prompted twice on a terminal, else the first line of stdin. */
async function newPassword(username: string): Promise<string> {
  if (!process.stdin.isTTY) return readStdinLine();
  const first = await promptHidden(`New password for ${username}: `);
  const second = await promptHidden('Again: ');
  if (first !== second) throw new AccountError('invalid', 'the two passwords differ');
  return first;
}

function describeAccount(a: Account): string {
  const state = a.disabled ? 'disabled' : a.lockedUntil ? `locked until ${a.lockedUntil}` : 'enabled';
  return [a.username, a.roles.join(','), state, a.origin, a.displayName].join('\t');
}

function collectRole(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerUserCommands(program: Command, addCommonOptions: (c: Command) => Command, setExitCode: (code: number) => void): void {
  const user = program.command('user').description('manage accounts (HTTP access): add, passwd, disable, enable, list');

  addCommonOptions(user.command('add').description('create an account; the password is prompted (or read from stdin)'))
    .argument('<username>', 'letters, digits and . _ @ - (stored lower-case)')
    .requiredOption('--role <role>', `role, repeatable: ${ROLES.join(', ')}`, collectRole, [])
    .option('--name <display name>', 'display name', '')
    .action(async (username: string, options: CliOptions & { role: string[]; name: string }) => {
      setExitCode(await withAccounts(options, async (accounts) => {
        const account = await accounts.create({ username, roles: options.role, displayName: options.name, password: await newPassword(username) });
        process.stdout.write(`created ${describeAccount(account)}\n`);
        return 0;
      }));
    });

  addCommonOptions(user.command('passwd').description('set a password (unlocks the account, ends its sessions and API tokens)'))
    .argument('<username>')
    .action(async (username: string, options: CliOptions) => {
      setExitCode(await withAccounts(options, async (accounts) => {
        if (!(await accounts.get(username))) throw new AccountError('not-found', `no account "${username}"`);
        await accounts.setPassword(username, await newPassword(username));
        process.stdout.write(`password of ${username.toLowerCase()} changed; its sessions and API tokens are revoked\n`);
        return 0;
      }));
    });

  for (const [name, disabled] of [['disable', true], ['enable', false]] as const) {
    addCommonOptions(user.command(name).description(disabled ? 'refuse all access to an account (ends its sessions and API tokens)' : 'allow a disabled account again'))
      .argument('<username>')
      .action(async (username: string, options: CliOptions) => {
        setExitCode(await withAccounts(options, async (accounts) => {
          const account = await updateKeepingAnAdministrator(accounts, username, { disabled });
          process.stdout.write(`${disabled ? 'disabled' : 'enabled'} ${account.username}\n`);
          return 0;
        }));
      });
  }

  addCommonOptions(user.command('list').description('list accounts: username, roles, state, origin, display name (tab-separated)'))
    .action(async (options: CliOptions) => {
      setExitCode(await withAccounts(options, async (accounts) => {
        for (const account of await accounts.list()) process.stdout.write(`${describeAccount(account)}\n`);
        return 0;
      }));
    });
}
