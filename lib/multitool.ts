import { createHash } from 'crypto';
import { Construct } from 'constructs';
import { ApiObject, Chart, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { DUAL_STACK, LabIpFamilies, checkLabIpFamilies, isIpv6Only } from './cidr';
import { DEFAULT_APP_PORT, DEFAULT_NAMESPACE } from './defaults';
import { checkDnsLabel, checkPort } from './validate';

export interface MultitoolProps {
  /**
   * Name of the DaemonSet, its ConfigMap prefix and the value of its `app` label.
   * @default "multitool"
   */
  readonly name?: string;
  /**
   * Namespace of the DaemonSet and its ConfigMap.
   * @default - the chart's namespace, else "default"
   */
  readonly namespace?: string;
  /**
   * The network-multitool image; the alpine-extra variant carries curl, ping and netstat the lab uses.
   * @default "wbitt/network-multitool:alpine-extra"
   */
  readonly image?: string;
  /**
   * Port nginx listens on, on IPv4 and IPv6.
   * @default 8080
   */
  readonly port?: number;
  /**
   * The families nginx listens on and the readiness probe asks over: `["IPv4", "IPv6"]`, or `["IPv6"]`
   * for an IPv6-only cluster, whose pods have no IPv4 address (127.0.0.1 aside).
   * @default ["IPv4", "IPv6"]
   */
  readonly ipFamilies?: LabIpFamilies;
}

export const MULTITOOL_DEFAULT_IMAGE = 'wbitt/network-multitool:alpine-extra';
/** Pod-template annotation holding the sha256 of nginx.conf, so a config change rolls the pods. */
export const CONFIG_HASH_ANNOTATION = 'calico-ipv6-lab/nginx-config-sha256';
const CONFIG_DIR = '/etc/multitool';
const CONTROL_PLANE_TAINT = 'node-role.kubernetes.io/control-plane';

/**
 * The nginx configuration the multitool pods run. It listens on IPv4 and, explicitly, on `[::]`:
 * nginx (like the image's stock config) listens on IPv4 only unless told otherwise. With `["IPv6"]` it
 * listens on `[::]` only (nginx's `listen [::]` is IPv6-only by default: ipv6only=on). Every answer names
 * the pod and the address and family it was reached on. The pid file goes to /tmp, which every image has.
 */
export function renderNginxConfig(port: number, ipFamilies: LabIpFamilies = DUAL_STACK): string {
  const listen = isIpv6Only(checkLabIpFamilies('ipFamilies', ipFamilies))
    ? [`    listen [::]:${port};   # IPv6 only: an IPv6-only cluster's pods have no IPv4 address`]
    : [`    listen ${port};        # IPv4`, `    listen [::]:${port};   # IPv6 - must be explicitly added!`];
  return [
    '# nginx for the multitool pods of the Calico IPv6 lab; rendered by calico-ipv6-lab.',
    'worker_processes 1;',
    'error_log /dev/stderr warn;',
    // nginx's compiled-in pid path is /run/nginx/nginx.pid on Alpine, a directory not every Alpine image
    // ships (gliderlabs/docker-alpine#185): without it nginx exits at startup. /tmp exists in every image.
    'pid /tmp/nginx.pid;',
    '',
    'events {',
    '  worker_connections 256;',
    '}',
    '',
    'http {',
    '  access_log /dev/stdout;',
    '  default_type text/plain;',
    '',
    '  # The family of the address this request arrived on: IPv6 addresses contain a colon.',
    '  map $server_addr $lab_ip_family {',
    '    "~:"    IPv6;',
    '    default IPv4;',
    '  }',
    '',
    '  server {',
    ...listen,
    '',
    '    location / {',
    '      return 200 "$hostname answered over $lab_ip_family on $server_addr port $server_port (client $remote_addr)\\n";',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * The lab's test workload: a DaemonSet of network-multitool pods (one per node, control plane included)
 * whose nginx answers on IPv4 and IPv6 (or IPv6 alone), with the nginx config in a ConfigMap.
 */
export class Multitool extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  public readonly image: string;
  public readonly port: number;
  public readonly ipFamilies: LabIpFamilies;
  public readonly labels: Record<string, string>;
  public readonly nginxConfig: string;
  public readonly configMap: kplus.ConfigMap;
  public readonly daemonSet: kplus.DaemonSet;

  constructor(scope: Construct, id: string, props: MultitoolProps = {}) {
    super(scope, id);
    this.name = props.name ?? 'multitool';
    this.port = props.port ?? DEFAULT_APP_PORT;
    const namespace = props.namespace ?? Chart.of(this).namespace ?? DEFAULT_NAMESPACE;
    const image = props.image ?? MULTITOOL_DEFAULT_IMAGE;
    this.namespace = namespace;
    this.image = image;
    checkPort('multitool port', this.port);
    this.ipFamilies = checkLabIpFamilies('multitool ipFamilies', props.ipFamilies ?? DUAL_STACK);
    // Leaves room for the `-nginx`, `-dual-stack` and `-ipv6-only` suffixes within 63 characters.
    checkDnsLabel('multitool name', this.name, 50);
    this.labels = { app: this.name };
    this.nginxConfig = renderNginxConfig(this.port, this.ipFamilies);
    const configHash = createHash('sha256').update(this.nginxConfig).digest('hex');

    this.configMap = new kplus.ConfigMap(this, 'NginxConfig', {
      metadata: { name: `${this.name}-nginx`, namespace, labels: this.labels },
      data: { 'nginx.conf': this.nginxConfig },
    });

    this.daemonSet = new kplus.DaemonSet(this, 'DaemonSet', {
      metadata: { name: this.name, namespace, labels: this.labels },
      // The lab selects with app=multitool; cdk8s-plus would otherwise select on a hashed metadata label.
      select: false,
      podMetadata: { labels: this.labels, annotations: { [CONFIG_HASH_ANNOTATION]: configHash } },
      // cdk8s-plus defaults to a non-root, read-only pod; the image runs nginx as root and writes its pid and temp files.
      securityContext: { ensureNonRoot: false },
    });
    this.daemonSet.select(kplus.LabelSelector.of({ labels: this.labels }));
    ApiObject.of(this.daemonSet).addJsonPatch(
      // cdk8s-plus labels every pod with its construct address even when it does not select on it.
      JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'),
      // The API server does not store these zero values, so client-side apply would re-send them and
      // report the DaemonSet "configured" on every run instead of "unchanged".
      JsonPatch.remove('/spec/minReadySeconds'),
      JsonPatch.remove('/spec/template/spec/hostNetwork'),
    );
    this.daemonSet.scheduling.tolerate(new kplus.TaintedNode([
      kplus.NodeTaintQuery.exists(CONTROL_PLANE_TAINT, { effect: kplus.TaintEffect.NO_SCHEDULE }),
    ]));

    const configVolume = kplus.Volume.fromConfigMap(this, 'NginxConfigVolume', this.configMap, { name: 'nginx-config' });
    // Every family's loopback must answer: a pod whose nginx lost `listen [::]` is not ready.
    const loopbackUrls: Record<string, string> = { IPv4: `http://127.0.0.1:${this.port}/`, IPv6: `'http://[::1]:${this.port}/'` };
    const everyFamilyAnswers = this.ipFamilies.map(f => `curl -fsS -o /dev/null --max-time 2 ${loopbackUrls[f]}`).join(' && ');

    this.daemonSet.addContainer({
      name: 'multitool',
      image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      // Run nginx on the mounted config directly: the image's entrypoint rewrites its own IPv4-only config.
      command: ['nginx', '-c', `${CONFIG_DIR}/nginx.conf`, '-g', 'daemon off;'],
      ports: [{ name: 'http', number: this.port }],
      readiness: kplus.Probe.fromCommand(['sh', '-c', everyFamilyAnswers], {
        initialDelaySeconds: Duration.seconds(2),
        periodSeconds: Duration.seconds(5),
        timeoutSeconds: Duration.seconds(5),
        failureThreshold: 3,
      }),
      // Three pods must fit a laptop kind cluster beside the control plane.
      resources: {
        cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(200) },
        memory: { request: Size.mebibytes(32), limit: Size.mebibytes(128) },
      },
      securityContext: { ensureNonRoot: false, readOnlyRootFilesystem: false, allowPrivilegeEscalation: false },
      volumeMounts: [{ path: CONFIG_DIR, volume: configVolume, readOnly: true }],
    });
  }
}
