// Loire's configuration: defaults, then the config file, then environment, then command-line flags.
// Every value from outside is validated here; a bad value stops start-up with a message naming the field.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { passwordProblem } from '../security/password.js';
import { ROLES } from '../security/permissions.js';

const AE_TITLE = /^[\x20-\x5b\x5d-\x7e]{1,16}$/; // PS3.5 AE: 16 chars of the default repertoire, no backslash

const aeTitle = z.string().trim().regex(AE_TITLE, 'must be 1 to 16 printable ASCII characters without backslash');
const port = z.coerce.number().int().min(0).max(65535);

export const dicomNodeSchema = z.object({
  name: z.string().min(1),
  aeTitle,
  host: z.string().min(1),
  port: port.refine((p) => p > 0, 'must be between 1 and 65535'),
}).strict();

/** HTTPS and whether plain HTTP is also served. */
export const httpSchema = z.object({
  tls: z.object({
    cert: z.string().min(1),
    key: z.string().min(1),
    port: port.default(8443),
  }).strict().optional(),
  /** Serve plain HTTP on httpPort (true by default; set false once HTTPS is configured). */
  plain: z.boolean().default(true),
}).strict();

const oidcSchema = z.object({
  issuer: z.string().url(),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  /** Loire's callback as the identity provider knows it: https://HOST/api/oidc/callback */
  redirectUri: z.string().url().refine((u) => new URL(u).pathname === '/api/oidc/callback', 'must end with /api/oidc/callback'),
  scope: z.string().default('openid profile email'),
  /** Claim naming the user (dotted path for nested claims). */
  usernameClaim: z.string().min(1).default('preferred_username'),
  /** Claim holding the user's groups or roles: a string or an array of strings (dotted path, e.g. realm_access.roles). */
  rolesClaim: z.string().min(1).default('roles'),
  /** IdP claim value → Loire role. A user none of whose values maps to a role is refused. */
  roleMapping: z.record(z.string().min(1), z.enum(ROLES)).refine((m) => Object.keys(m).length > 0, 'map at least one claim value to a role'),
  /** Only for a test identity provider on a private network: allows an http:// issuer. */
  allowInsecureHttp: z.boolean().default(false),
}).strict();

export const securitySchema = z.object({
  /** Off only to measure the cost of authentication in benchmarks: everybody is then an administrator. */
  authentication: z.boolean().default(true),
  sessions: z.object({
    idleMinutes: z.number().positive().max(24 * 60).default(30),
    absoluteHours: z.number().positive().max(24 * 30).default(12),
  }).strict().default({}),
  lockout: z.object({
    /** Consecutive failed logins after which an account is locked. */
    maxFailures: z.number().int().min(1).default(5),
    lockMinutes: z.number().positive().default(15),
  }).strict().default({}),
  /** Failed authentications from one address within the window after which it is refused (429). */
  addressThrottle: z.object({
    maxFailures: z.number().int().min(1).default(30),
    windowMinutes: z.number().positive().default(15),
  }).strict().default({}),
  /** scrypt cost of new password hashes: log2 N (17 = 128 MiB per hash with r = 8). */
  passwordHash: z.object({
    ln: z.number().int().min(14).max(22).default(17),
    r: z.number().int().min(8).max(32).default(8),
    p: z.number().int().min(1).max(16).default(1),
  }).strict().default({}),
  oidc: oidcSchema.optional(),
}).strict();

export type HttpConfig = z.infer<typeof httpSchema>;
export type SecurityConfig = z.infer<typeof securitySchema> & {
  /** LOIRE_ADMIN_PASSWORD: the first administrator's password (used only when no account exists). */
  initialAdminPassword?: string;
};
export type OidcConfig = z.infer<typeof oidcSchema>;

export const duplicatePolicySchema = z.enum(['reject', 'overwrite', 'keep-first']);

export const configFileSchema = z.object({
  data: z.string().min(1).optional(),
  httpPort: port.optional(),
  dicomPort: port.optional(),
  aeTitle: aeTitle.optional(),
  database: z.string().min(1).optional(),
  bindAddress: z.string().min(1).optional(),
  dicomNodes: z.array(dicomNodeSchema).default([]),
  storage: z.object({
    duplicatePolicy: duplicatePolicySchema.default('keep-first'),
  }).strict().default({}),
  dimse: z.object({
    maxPduLength: z.number().int().min(4096).max(16 * 1024 * 1024).default(262144),
    artimTimeoutSeconds: z.number().positive().default(30),
    idleTimeoutSeconds: z.number().positive().default(300),
    maxAssociations: z.number().int().positive().default(64),
  }).strict().default({}),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  http: httpSchema.default({}),
  security: securitySchema.default({}),
}).strict();

export type DicomNode = z.infer<typeof dicomNodeSchema>;
export type DuplicatePolicy = z.infer<typeof duplicatePolicySchema>;

export interface LoireConfig {
  dataDir: string;
  httpPort: number;
  dicomPort: number;
  aeTitle: string;
  /** `sqlite:` file path or `postgres://` URL. */
  database: string;
  bindAddress: string;
  dicomNodes: DicomNode[];
  duplicatePolicy: DuplicatePolicy;
  dimse: { maxPduLength: number; artimTimeoutSeconds: number; idleTimeoutSeconds: number; maxAssociations: number };
  logLevel: string;
  http: HttpConfig;
  security: SecurityConfig;
}

/** Options as given on the command line (all optional strings, as commander yields them). */
export interface CliOptions {
  data?: string;
  httpPort?: string;
  dicomPort?: string;
  aeTitle?: string;
  database?: string;
  config?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function formatIssues(source: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => `${source}: ${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('\n');
}

function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  try {
    return /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
}

function validate<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown, source: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new ConfigError(formatIssues(source, result.error));
  return result.data;
}

/** Resolves the configuration; `env` is passed in so tests need no global state. */
export function loadConfig(cli: CliOptions, env: NodeJS.ProcessEnv = process.env): LoireConfig {
  const configPath = cli.config ?? env.LOIRE_CONFIG;
  const file = configPath ? validate(configFileSchema, readConfigFile(configPath) ?? {}, configPath) : validate(configFileSchema, {}, 'defaults');

  const overrides = validate(z.object({
    data: z.string().min(1).optional(),
    httpPort: port.optional(),
    dicomPort: port.optional(),
    aeTitle: aeTitle.optional(),
    database: z.string().min(1).optional(),
  }), {
    data: cli.data ?? env.LOIRE_DATA,
    httpPort: cli.httpPort ?? env.LOIRE_HTTP_PORT,
    dicomPort: cli.dicomPort ?? env.LOIRE_DICOM_PORT,
    aeTitle: cli.aeTitle ?? env.LOIRE_AE_TITLE,
    database: cli.database ?? env.LOIRE_DATABASE,
  }, 'command line/environment');

  const dataDir = path.resolve(overrides.data ?? file.data ?? './data');
  const database = overrides.database ?? file.database ?? `sqlite://${path.join(dataDir, 'index.sqlite')}`;
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(database)) {
    throw new ConfigError(`database: "${database}" is neither sqlite:///PATH nor a postgres://… URL`);
  }
  const names = new Set<string>();
  for (const node of file.dicomNodes) {
    if (names.has(node.name)) throw new ConfigError(`${configPath}: dicomNodes: duplicate name "${node.name}"`);
    names.add(node.name);
  }
  if (!file.http.plain && !file.http.tls) {
    throw new ConfigError(`${configPath}: http.plain is false but http.tls is not configured: nothing would serve HTTP`);
  }
  const initialAdminPassword = env.LOIRE_ADMIN_PASSWORD || undefined;
  const adminPasswordProblem = initialAdminPassword && passwordProblem(initialAdminPassword);
  if (adminPasswordProblem) throw new ConfigError(`LOIRE_ADMIN_PASSWORD: ${adminPasswordProblem}`);
  return {
    dataDir,
    httpPort: overrides.httpPort ?? file.httpPort ?? 8080,
    dicomPort: overrides.dicomPort ?? file.dicomPort ?? 11112,
    aeTitle: overrides.aeTitle ?? file.aeTitle ?? 'LOIRE',
    database,
    bindAddress: file.bindAddress ?? '0.0.0.0',
    dicomNodes: file.dicomNodes,
    duplicatePolicy: file.storage.duplicatePolicy,
    dimse: file.dimse,
    logLevel: file.logLevel,
    http: file.http,
    security: { ...file.security, ...(initialAdminPassword ? { initialAdminPassword } : {}) },
  };
}
