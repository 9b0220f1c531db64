// The `loire` command: serve, import, verify, user, audit verify.
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig, type CliOptions } from '../config/config.js';
import { createLogger, type Logger } from '../logger.js';
import { openArchive } from '../archive.js';
import { startServer } from '../server.js';
import { verifyStorage } from '../integrity/verify.js';
import { openIndex } from '../index/index.js';
import os from 'node:os';
import { Outcome, type AuditEvent } from '../audit/event.js';
import { StudyPatients } from '../audit/patients.js';
import { verifyChain } from '../audit/store.js';
import { formatSummary, importExitCode, importPaths } from './import.js';
import { explainSystemError } from './system-error.js';
import { registerUserCommands } from './user.js';

function addCommonOptions(command: Command): Command {
  return command
    .option('--data <dir>', 'data directory (env LOIRE_DATA, default ./data)')
    .option('--database <url>', 'index database: sqlite:PATH or postgres://… (env LOIRE_DATABASE)')
    .option('--config <file>', 'configuration file, YAML or JSON (env LOIRE_CONFIG)');
}

async function serve(options: CliOptions): Promise<number> {
  const config = loadConfig(options);
  const logger = createLogger(config.logLevel);
  const server = await startServer(config, logger);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'stopping: draining open associations');
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      server.close().then(resolve, (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        resolve();
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  logger.info('stopped');
  return 0;
}

/**
 * A command prints its own output; what goes wrong underneath (an audit record that cannot be
 * written, say) still reaches the administrator, as error lines on stderr.
 */
function commandLogger(): Logger {
  return createLogger('error', process.stderr);
}

async function runImport(paths: string[], options: CliOptions): Promise<number> {
  const config = loadConfig(options);
  const archive = await openArchive(config, commandLogger());
  const studies = new Map<string, Map<string, number>>();
  try {
    const summary = await importPaths(archive.ingest, paths, {
      progress: process.stderr.isTTY === true,
      onStored: (result) => {
        const classes = studies.get(result.studyInstanceUid) ?? new Map<string, number>();
        classes.set(result.sopClassUid, (classes.get(result.sopClassUid) ?? 0) + 1);
        studies.set(result.studyInstanceUid, classes);
      },
    });
    const patients = new StudyPatients(archive.index);
    for (const event of importEvents(studies, paths, summary.rejected.length, config.aeTitle)) {
      const patient = event.studies?.[0] ? await patients.of(event.studies[0].uid) : undefined;
      await archive.audit.record(patient ? { ...event, patients: [patient] } : event);
    }
    process.stdout.write(`${formatSummary(summary)}\n`);
    return importExitCode(summary);
  } finally {
    await archive.close();
  }
}

async function runVerify(options: CliOptions): Promise<number> {
  const config = loadConfig(options);
  const archive = await openArchive(config, commandLogger());
  try {
    const report = await verifyStorage(archive.storage, archive.index.allStorageRecords(), (n) => {
      if (process.stderr.isTTY && n % 1000 === 0) process.stderr.write(`\rverified ${n} objects`);
    });
    if (process.stderr.isTTY) process.stderr.write('\r');
    for (const p of report.problems) {
      process.stdout.write(`${p.problem}\t${p.sopInstanceUid}\t${p.storageKey}\t${p.detail}\n`);
    }
    const mib = (report.bytes / 1048576).toFixed(1);
    process.stdout.write(`${report.checked} objects (${mib} MiB) checked, ${report.problems.length} problem(s)\n`);
    return report.problems.length === 0 ? 0 : 1;
  } finally {
    await archive.close();
  }
}

/** What an import stored, for the audit trail: one Instances Transferred per study, by the OS user. */
function importEvents(studies: Map<string, Map<string, number>>, paths: string[], rejected: number, aeTitle: string): AuditEvent[] {
  let user = 'unknown';
  try { user = os.userInfo().username; } catch { /* no passwd entry (container): keep 'unknown' */ }
  const participants = [{ userId: user, isRequestor: true, role: 'source' as const, address: os.hostname() }, { userId: aeTitle, isRequestor: false, role: 'destination' as const }];
  const events: AuditEvent[] = [...studies].map(([uid, classes]) => ({
    kind: 'instances-transferred', outcome: Outcome.Success, participants,
    studies: [{ uid, sopClasses: [...classes].map(([sopClass, count]) => ({ uid: sopClass, count })) }],
    summary: { door: 'import', paths: paths.slice(0, 20), instances: [...classes.values()].reduce((a, b) => a + b, 0) },
  }));
  if (rejected > 0) {
    events.push({
      kind: 'instances-transferred', outcome: Outcome.MinorFailure, participants, outcomeDescription: `${rejected} file(s) refused`,
      summary: { door: 'import', paths: paths.slice(0, 20), refused: rejected },
    });
  }
  return events;
}

/** `loire audit verify`: walks the audit hash chain; exit 1 naming the first bad record. */
async function runAuditVerify(options: CliOptions): Promise<number> {
  const config = loadConfig(options);
  const index = await openIndex(config.database);
  try {
    const report = await verifyChain(index.db, (n) => {
      if (process.stderr.isTTY) process.stderr.write(`\rverified ${n} audit records`);
    });
    if (process.stderr.isTTY) process.stderr.write('\r');
    if (report.firstBad) {
      process.stdout.write(`audit trail BROKEN at record ${report.firstBad.seq} (${report.firstBad.problem}): ${report.firstBad.detail}\n`);
      process.stdout.write(`${report.checked} record(s) before it are intact\n`);
      return 1;
    }
    process.stdout.write(`${report.checked} audit record(s) checked, hash chain intact (last record ${report.lastSeq})\n`);
    return 0;
  } finally {
    await index.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command('loire')
    .description('Loire PACS: a DICOM archive')
    .exitOverride()
    .showHelpAfterError();
  addCommonOptions(program.command('serve').description('start the archive (DICOM and HTTP)'))
    .option('--http-port <n>', 'HTTP port (env LOIRE_HTTP_PORT, default 8080)')
    .option('--dicom-port <n>', 'DICOM port (env LOIRE_DICOM_PORT, default 11112)')
    .option('--ae-title <title>', 'AE title (env LOIRE_AE_TITLE, default LOIRE)')
    .action(async (options: CliOptions) => { exitCode = await serve(options); });
  addCommonOptions(program.command('import').description('store DICOM files and folders (recursively)'))
    .argument('<paths...>', 'files or folders')
    .action(async (paths: string[], options: CliOptions) => { exitCode = await runImport(paths, options); });
  addCommonOptions(program.command('verify').description('re-hash every stored object and compare with the index'))
    .action(async (options: CliOptions) => { exitCode = await runVerify(options); });
  registerUserCommands(program, addCommonOptions, (code) => { exitCode = code; });
  const audit = program.command('audit').description('the audit trail');
  addCommonOptions(audit.command('verify').description('check the audit trail\'s hash chain; names the first altered, missing or reordered record'))
    .action(async (options: CliOptions) => { exitCode = await runAuditVerify(options); });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof ConfigError) {
      process.stderr.write(`loire: configuration error:\n${err.message}\n`);
      return 2;
    }
    const explained = explainSystemError(err);
    process.stderr.write(explained ? `loire: ${explained}\n` : `loire: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
  return exitCode;
}
