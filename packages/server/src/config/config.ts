// Loire's configuration: defaults, then the config file, then environment, then command-line flags.
// Every value from outside is validated here; a bad value stops start-up with a message naming the field.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { passwordProblem } from '../security/password.js';
import { ROLES } from '../security/permissions.js';

const AE_TITLE = /^[\x20-\x5b\x5d-\x7e]{1,16}$/; // PS3.5 AE: 16 chars of the default repertoire, no backslash

const aeTitle = z.string().trim().regex(AE_TITLE, 'must be 1 to 16 printable ASCII characters without backslash');
const port = z.coerce.number().int().min(0).max(65535);

/** An IPv4/IPv6 address, or a network in CIDR notation (10.1.2.0/24, fd00::/8). */
const addressOrNetwork = z.string().trim().refine((v) => {
  const [address, prefix, ...rest] = v.split('/');
  const family = net.isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}, 'must be an IP address or a network in CIDR notation (e.g. 10.1.2.0/24)');

/** What a node may ask of Loire over DIMSE (see security/node-access.ts for the services each right opens). */
export const nodePermissionsSchema = z.object({
  store: z.boolean().default(true),
  query: z.boolean().default(true),
  retrieve: z.boolean().default(true),
  /** AE titles this node may name as C-MOVE destination; '*' = any configured node; default: only itself. */
  moveDestinations: z.array(z.union([z.literal('*'), aeTitle])).optional(),
}).strict();

export const dicomNodeSchema = z.object({
  name: z.string().min(1),
  aeTitle,
  /** Where the node's SCP listens (C-MOVE destination, storage commitment reports); absent for a node that only calls us. */
  host: z.string().min(1).optional(),
  port: port.refine((p) => p > 0, 'must be between 1 and 65535').optional(),
  /** Source addresses the node may call from; absent: any. */
  hosts: z.array(addressOrNetwork).min(1).optional(),
  /** Connect to this node over DICOM TLS (needs the dicomTls section for our certificate and trust anchors). */
  tls: z.boolean().default(false),
  permissions: nodePermissionsSchema.default({}),
}).strict().refine((n) => (n.host === undefined) === (n.port === undefined), { message: 'host and port go together: give both, or neither for a node that only calls Loire', path: ['port'] });

export const dicomTlsSchema = z.object({
  /** PS3.15 B.9: the port of DICOM TLS (IANA registered 2762, "dicom-tls"). */
  port: port.default(2762),
  /** PEM files; relative paths are relative to the config file. */
  certificate: z.string().min(1),
  key: z.string().min(1),
  /** PEM bundle of the authorities trusted for peers' certificates; default: the system's. */
  ca: z.string().min(1).optional(),
  clientCertificates: z.enum(['required', 'optional', 'off']).default('required'),
  /** Keep the plain (unencrypted) DICOM port open beside the TLS one. */
  plain: z.boolean().default(true),
}).strict();

export const dicomAccessSchema = z.object({
  /** Refuse associations from calling AE titles that are not configured nodes (PS3.8 9.3.4, reason 3). */
  strict: z.boolean().default(false),
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
  dicomTls: dicomTlsSchema.optional(),
  dicomAccess: dicomAccessSchema.default({}),
  storage: z.object({
    duplicatePolicy: duplicatePolicySchema.default('keep-first'),
  }).strict().default({}),
  dimse: z.object({
    maxPduLength: z.number().int().min(4096).max(16 * 1024 * 1024).default(262144),
    artimTimeoutSeconds: z.number().positive().default(30),
    idleTimeoutSeconds: z.number().positive().default(300),
    maxAssociations: z.number().int().positive().default(64),
  }).strict().default({}),
  stow: z.object({
    /** Largest STOW-RS request body; DICOM parts stream to disk, so this only bounds one upload. */
    maxRequestBytes: z.number().int().positive().default(64 * 1024 ** 3),
    /** Largest metadata upload (DICOM JSON and its bulk data), which is assembled in memory. */
    maxMetadataUploadBytes: z.number().int().positive().default(256 * 1024 ** 2),
    /** A client silent this long in the middle of a body is cut off and its partial object discarded. */
    idleTimeoutSeconds: z.number().positive().default(60),
  }).strict().default({}),
  dicomweb: z.object({
    cors: z.object({
      /**
       * Origins (scheme://host[:port]) whose web pages may call the DICOMweb API from a browser;
       * "*" allows any origin (without credentials). Empty: no CORS headers at all.
       */
      origins: z.array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, 'must be "*" or scheme://host[:port] without a path')).default([]),
    }).strict().default({}),
  }).strict().default({}),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  http: httpSchema.default({}),
  security: securitySchema.default({}),
  audit: z.object({
    /** false only for benchmarks: nothing is recorded. */
    enabled: z.boolean().default(true),
    syslog: z.object({
      host: z.string().min(1),
      port: port.refine((p) => p > 0, 'must be between 1 and 65535'),
      protocol: z.enum(['tcp', 'tls']).default('tls'),
      /** PEM file of the CA that signed the collector's certificate (default: the system's CAs). */
      ca: z.string().min(1).optional(),
    }).strict().optional(),
  }).strict().default({}),
}).strict();

export type DicomNode = z.infer<typeof dicomNodeSchema>;
/** A node as written in a config file (defaults not yet applied). */
export type DicomNodeInput = z.input<typeof dicomNodeSchema>;
export type DicomTlsConfig = z.infer<typeof dicomTlsSchema>;
export type DicomAccessConfig = z.infer<typeof dicomAccessSchema>;
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
  /** DICOM TLS (absent: plain DICOM only); file paths are absolute. */
  dicomTls?: DicomTlsConfig;
  dicomAccess: DicomAccessConfig;
  duplicatePolicy: DuplicatePolicy;
  dimse: { maxPduLength: number; artimTimeoutSeconds: number; idleTimeoutSeconds: number; maxAssociations: number };
  stow: { maxRequestBytes: number; maxMetadataUploadBytes: number; idleTimeoutSeconds: number };
  dicomweb: { cors: { origins: string[] } };
  logLevel: string;
  http: HttpConfig;
  security: SecurityConfig;
  audit: AuditConfig;
}

export interface AuditConfig {
  enabled: boolean;
  /** RFC 5424 forwarding; `ca` is the PEM text read from the configured file. */
  syslog?: { host: string; port: number; protocol: 'tcp' | 'tls'; ca?: string };
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
  checkNodes(file.dicomNodes, !!file.dicomTls, configPath ?? 'defaults');
  const base = configPath ? path.dirname(path.resolve(configPath)) : process.cwd();
  const dicomTls = file.dicomTls && {
    ...file.dicomTls,
    certificate: path.resolve(base, file.dicomTls.certificate),
    key: path.resolve(base, file.dicomTls.key),
    ...(file.dicomTls.ca ? { ca: path.resolve(base, file.dicomTls.ca) } : {}),
  };
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
    ...(dicomTls ? { dicomTls } : {}),
    dicomAccess: file.dicomAccess,
    duplicatePolicy: file.storage.duplicatePolicy,
    dimse: file.dimse,
    stow: file.stow,
    dicomweb: file.dicomweb,
    logLevel: file.logLevel,
    http: file.http,
    security: { ...file.security, ...(initialAdminPassword ? { initialAdminPassword } : {}) },
    audit: auditConfig(file.audit, configPath),
  };
}

/**
 * Checks what the schema cannot see one node at a time: unique names, TLS nodes need our
 * certificate, C-MOVE destinations are nodes Loire can reach.
 */
export function checkNodes(nodes: readonly DicomNode[], haveTls: boolean, source: string): void {
  const reachable = new Set(nodes.filter((n) => n.host !== undefined).map((n) => n.aeTitle));
  const names = new Set<string>();
  for (const [i, node] of nodes.entries()) {
    if (names.has(node.name)) throw new ConfigError(`${source}: dicomNodes: duplicate name "${node.name}"`);
    names.add(node.name);
    if (node.tls && !haveTls) {
      throw new ConfigError(`${source}: dicomNodes.${i}.tls: node "${node.name}" is reached over TLS, so the dicomTls section must give Loire's certificate, key and the trusted authorities (ca)`);
    }
    for (const [j, destination] of (node.permissions.moveDestinations ?? []).entries()) {
      if (destination !== '*' && !reachable.has(destination)) {
        throw new ConfigError(`${source}: dicomNodes.${i}.permissions.moveDestinations.${j}: "${destination}" is not the AE title of a node with host and port`);
      }
    }
  }
}

function auditConfig(audit: z.infer<typeof configFileSchema>['audit'], configPath: string | undefined): AuditConfig {
  if (!audit.syslog) return { enabled: audit.enabled };
  const { ca: caFile, ...syslog } = audit.syslog;
  if (!caFile) return { enabled: audit.enabled, syslog };
  const file = configPath ? path.resolve(path.dirname(configPath), caFile) : path.resolve(caFile);
  let ca: string;
  try {
    ca = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`audit.syslog.ca: cannot read ${file}: ${(err as Error).message}`);
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`audit.syslog.ca: ${file} holds no PEM certificate`);
  return { enabled: audit.enabled, syslog: { ...syslog, ca } };
}
