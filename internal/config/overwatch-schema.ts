/**
 * The overwatch configuration: the seed guide's keys (dns, regions, domains, logging, metrics, api, cluster.*)
 * plus DESIGN.md section 7a. The generated reference in docs/configuration.md comes from this tree.
 */
import {
  checkCidr,
  checkDomainName,
  checkHostPort,
  checkIp,
  checkName,
  checkStatusRanges,
} from './checks.js';
import { bool, duration, type Infer, int, list, map, num, obj, str } from './schema.js';

const S = 1000;

const pemFile = (what: string) => str({ doc: `Path of the PEM ${what} file.`, default: '' });

const healthCheck = obj(
  {
    type: str({ doc: 'Probe type.', enum: ['http', 'https', 'tcp'] as const, default: 'http' }),
    interval: duration({
      doc: 'Time between the starts of two checks of one server.',
      default: 10 * S,
      minMs: 100,
    }),
    timeout: duration({
      doc: 'Deadline of one check (connect and response); at most `interval`.',
      default: 5 * S,
      minMs: 10,
    }),
    path: str({ doc: 'HTTP(S) request path.', default: '/health' }),
    host: str({ doc: 'HTTP Host header (and TLS server name); default: the server address.', default: '' }),
    expected_status: str({
      doc: 'Status codes counted as healthy: codes or ranges, comma separated.',
      default: '200-299',
      check: checkStatusRanges,
    }),
    failure_threshold: int({
      doc: 'Consecutive failures before a healthy server is taken out.',
      default: 3,
      min: 1,
      max: 100,
    }),
    success_threshold: int({
      doc: 'Consecutive successes before an unhealthy server is put back.',
      default: 2,
      min: 1,
      max: 100,
    }),
  },
  { doc: "How the overwatch probes this region's servers (and validates agent-registered backends)." },
);

const server = obj(
  {
    address: str({
      doc: 'IPv4 or IPv6 address handed out in A/AAAA answers and probed by health checks.',
      check: checkIp,
    }),
    port: int({ doc: 'Port the health check probes.', default: 80, min: 1, max: 65535 }),
    weight: int({
      doc: 'Relative share for `weighted` routing; 0 = never chosen.',
      default: 100,
      min: 0,
      max: 1000,
    }),
  },
  { doc: 'A backend server.' },
);

const region = obj(
  {
    name: str({ doc: 'Region name referenced by `domains[].regions`.', check: checkName }),
    servers: list(server, {
      doc: 'Static backends. May be empty: agents register backends at run time.',
      default: [],
    }),
    health_check: healthCheck,
  },
  { doc: 'A group of backends that share a health check.' },
);

const domain = obj(
  {
    name: str({
      doc: 'The DNS name served, e.g. `app.example.com`. Also the "service" name agents use.',
      check: checkDomainName,
    }),
    routing_algorithm: str({
      doc: 'How answers are chosen among healthy servers. `geolocation` and `latency` are planned, not yet available.',
      enum: ['round-robin', 'weighted', 'failover', 'geolocation', 'latency'] as const,
      default: 'round-robin',
    }),
    regions: list(str({ doc: 'Region name.' }), {
      doc: 'Regions whose servers back this name, in failover order.',
    }),
    ttl: int({ doc: 'TTL of answers; default `dns.default_ttl`.', optional: true, min: 0, max: 604800 }),
    max_records: int({ doc: 'Most addresses in one answer.', default: 1, min: 1, max: 64 }),
    return_last_healthy: bool({
      doc: 'Fail open: when no server is healthy, answer with the last healthy set instead of SERVFAIL.',
      default: false,
    }),
  },
  { doc: 'A load-balanced name.' },
);

const threshold = (percent: number) =>
  num({
    doc: 'Percentage at which the signal counts as over threshold.',
    default: percent,
    min: 0,
    max: 100,
  });
const bleedDuration = () =>
  duration({ doc: 'Time for weight to ramp from full to zero while bleeding.', default: 30 * S, minMs: 0 });
const hostSignal = (percent: number, what: string) =>
  obj(
    { threshold: threshold(percent), bleed_duration: bleedDuration() },
    { doc: `Predictive policy for host ${what}.` },
  );

/** The overwatch (`opengslb`) configuration schema. */
export const overwatchSchema = obj(
  {
    dns: obj(
      {
        listen_address: str({ doc: 'UDP and TCP address for DNS.', default: ':53', check: checkHostPort }),
        default_ttl: int({
          doc: 'TTL of answers for domains without `ttl`.',
          default: 60,
          min: 0,
          max: 604800,
        }),
        zones: list(str({ doc: 'Zone apex.', check: checkDomainName }), {
          doc: 'Zone apexes this server is authoritative for; default: every domain name is its own apex.',
          default: [],
        }),
        max_udp_size: int({
          doc: 'Largest UDP response before truncation (RFC 6891; 1232 avoids fragmentation).',
          default: 1232,
          min: 512,
          max: 4096,
        }),
        serve_on: str({
          doc: 'Which nodes answer DNS in cluster mode: `leader` (while it holds its lease; others REFUSED) or `any` (followers too, within `max_stale`).',
          enum: ['leader', 'any'] as const,
          default: 'leader',
        }),
        max_stale: duration({
          doc: 'With `serve_on: any`: how long a follower may answer after last hearing from the leader; then REFUSED.',
          default: 5 * S,
          minMs: 0,
        }),
      },
      { doc: 'DNS server.' },
    ),
    regions: list(region, { doc: 'Backend regions.', default: [], uniqueBy: 'name' }),
    domains: list(domain, { doc: 'Names served.', default: [], uniqueBy: 'name' }),
    logging: obj(
      {
        level: str({
          doc: 'Least severe level logged.',
          enum: ['debug', 'info', 'warn', 'error'] as const,
          default: 'info',
        }),
        format: str({
          doc: 'One JSON object per line, or human-readable text.',
          enum: ['json', 'text'] as const,
          default: 'json',
        }),
      },
      { doc: 'Logging.' },
    ),
    metrics: obj(
      {
        enabled: bool({ doc: 'Serve Prometheus metrics at `/metrics`.', default: true }),
        address: str({ doc: 'Metrics listen address.', default: ':9090', check: checkHostPort }),
      },
      { doc: 'Prometheus metrics.' },
    ),
    api: obj(
      {
        enabled: bool({ doc: 'Serve the REST API.', default: true }),
        address: str({ doc: 'REST API listen address.', default: ':8080', check: checkHostPort }),
        allowed_networks: list(str({ doc: 'CIDR network.', check: checkCidr }), {
          doc: 'Client networks allowed to use the API (403 otherwise). Empty: loopback only (see `allow_loopback`).',
          default: [],
        }),
        allow_loopback: bool({
          doc: 'Also allow loopback clients whatever `allowed_networks` says.',
          default: true,
        }),
        admin_token: str({
          doc: 'When set, write calls (REST and gRPC admin) need `Authorization: Bearer <token>`.',
          default: '',
        }),
      },
      { doc: 'REST API.' },
    ),
    grpc: obj(
      {
        address: str({ doc: 'Agent and admin gRPC listen address.', default: ':9443', check: checkHostPort }),
        max_agent_streams: int({
          doc: 'Concurrent agent streams this node accepts; more are refused with RESOURCE_EXHAUSTED.',
          default: 1000,
          min: 1,
          max: 100_000,
        }),
        tls: obj(
          {
            cert_file: pemFile('certificate'),
            key_file: pemFile('private key'),
            client_ca_file: pemFile('client CA'),
          },
          { doc: 'TLS for the gRPC port; mutual TLS when `client_ca_file` is set.' },
        ),
      },
      { doc: 'gRPC (agents, admin, reflection, health).' },
    ),
    cluster: obj(
      {
        mode: str({
          doc: 'Run alone or as a Raft cluster member.',
          enum: ['standalone', 'cluster'] as const,
          default: 'standalone',
        }),
        node_name: str({
          doc: 'Stable node identity.',
          default: '',
          defaultDoc: 'the host name',
          check: (v) => (v === '' ? undefined : checkName(v)),
        }),
        bind_address: str({ doc: 'Raft listen address.', default: '0.0.0.0:7000', check: checkHostPort }),
        advertise_address: str({
          doc: 'Raft address peers use to reach this node; default `bind_address`.',
          default: '',
          check: (v) => (v === '' ? undefined : checkHostPort(v)),
        }),
        bootstrap: bool({
          doc: 'Create a new one-node cluster when this node has no state.',
          default: false,
        }),
        join: list(str({ doc: 'host:port', check: checkHostPort }), {
          doc: 'Raft addresses of existing members to join.',
          default: [],
        }),
        raft: obj(
          {
            data_dir: str({
              doc: 'Directory for the Raft log, snapshots and state. When the default is not writable, a standalone node uses `./data/raft` (and logs it); a cluster member refuses to start.',
              default: '/var/lib/opengslb/raft',
            }),
            heartbeat_timeout: duration({
              doc: 'Follower timeout T before a pre-vote (randomized in [T, 2T)); the leader heartbeats every T/10 and answers DNS on a lease of 0.75 T.',
              default: 1 * S,
              minMs: 5,
            }),
            election_timeout: duration({
              doc: "How long a candidate's election lasts (randomized in [E, 2E)); at least `heartbeat_timeout`.",
              default: 1 * S,
              minMs: 5,
            }),
            snapshot_interval: duration({
              doc: 'Cluster mode: a Raft snapshot is also taken when this long has passed since the last one and at least one entry was applied since (an idle cluster takes none).',
              default: 120 * S,
              minMs: 1000,
            }),
            snapshot_threshold: int({
              doc: 'Applied log entries since the last snapshot that trigger a new one; the log is then compacted, keeping this many trailing entries for followers slightly behind (further behind: InstallSnapshot). Standalone: entries between decision-log snapshots.',
              default: 8192,
              min: 16,
              max: 10_000_000,
            }),
            tls: obj(
              { cert_file: pemFile('certificate'), key_file: pemFile('private key'), ca_file: pemFile('CA') },
              {
                doc: 'Mutual TLS between Raft peers: all three set or none. Each node presents `cert_file` (needs both serverAuth and clientAuth usage when it has an extended key usage) and accepts only peers whose certificate `ca_file` signed.',
              },
            ),
          },
          { doc: 'Raft consensus.' },
        ),
        gossip: obj(
          {
            bind_address: str({
              doc: 'Gossip (SWIM) UDP and TCP listen address.',
              default: '0.0.0.0:7946',
              check: checkHostPort,
            }),
            probe_interval: duration({
              doc: 'Time between failure-detector probes.',
              default: 1 * S,
              minMs: 10,
            }),
            probe_timeout: duration({ doc: 'Deadline of one probe.', default: 500, minMs: 5 }),
            encryption_key: str({
              doc: 'Base64 AES key (16, 24 or 32 bytes); empty disables encryption.',
              default: '',
            }),
          },
          {
            doc: 'Gossip between overwatch nodes. Not built yet: these keys are validated and `bind_address` is advertised in the member list, but nothing listens on it (docs/cluster.md, "Not there yet").',
          },
        ),
        overwatch: obj(
          {
            external_check_interval: duration({
              doc: 'How often the overwatch probes agent-registered backends.',
              default: 30 * S,
              minMs: 100,
            }),
            veto_mode: str({
              doc: 'How external checks overrule agents.',
              enum: ['strict', 'balanced', 'permissive'] as const,
              default: 'balanced',
            }),
            veto_threshold: int({
              doc: 'Consecutive failing rounds before a veto.',
              default: 3,
              min: 1,
              max: 100,
            }),
            agent_tokens: map(str({ doc: 'Token.' }), {
              doc: 'Agent token per service (`domains[].name`).',
              default: {},
            }),
            min_report_interval: duration({
              doc: 'Reports from one agent closer together than this are dropped unacknowledged (throttling).',
              default: 500,
              minMs: 0,
            }),
            stale_threshold: duration({
              doc: "Silence after which an agent's backends are stale.",
              default: 30 * S,
              minMs: 100,
            }),
            remove_after: duration({
              doc: "Silence after which an agent's backends are removed.",
              default: 300 * S,
              minMs: 100,
            }),
            panic_threshold: num({
              doc: 'Bleeding never takes a domain below this fraction of its configured weight.',
              default: 0.5,
              min: 0,
              max: 1,
            }),
          },
          { doc: 'Agent validation and veto policy.' },
        ),
        predictive_health: obj(
          {
            enabled: bool({ doc: "Act on agents' predictive signals.", default: true }),
            cpu: hostSignal(80, 'CPU'),
            memory: hostSignal(85, 'memory'),
            error_rate: obj(
              {
                threshold: threshold(5),
                window: duration({
                  doc: 'Window the error rate and its trend are computed over.',
                  default: 60 * S,
                  minMs: 1000,
                }),
                bleed_duration: bleedDuration(),
              },
              { doc: 'Predictive policy for the error rate.' },
            ),
            warning_rate: num({
              doc: 'Speed of the bleed a `warning` (trend) starts, relative to `bleed`; 0 = warnings do not bleed.',
              default: 0.5,
              min: 0,
              max: 1,
            }),
            horizon: duration({
              doc: 'Trend forecast horizon; 0 disables "warning".',
              default: 30 * S,
              minMs: 0,
            }),
          },
          { doc: 'Predictive health policy, sent to agents.' },
        ),
      },
      { doc: 'Cluster, Raft, gossip and overwatch policy.' },
    ),
  },
  { doc: 'OpenGSLB overwatch configuration.' },
);

/** The loaded overwatch configuration (camelCase, durations in ms). */
export type OverwatchConfig = Infer<typeof overwatchSchema>;
export type RegionConfig = OverwatchConfig['regions'][number];
export type DomainConfig = OverwatchConfig['domains'][number];
export type ServerConfig = RegionConfig['servers'][number];
export type HealthCheckConfig = RegionConfig['healthCheck'];
