import * as fs from 'fs';
import * as path from 'path';
import { Construct, IConstruct } from 'constructs';
import * as ipaddr from 'ipaddr.js';
import { parseCidr } from './cidr';
import { DEFAULT_NAT64_PREFIX, NAT64_GATEWAY_IMAGE } from './defaults';
import type { ILabFactsSection, LabFacts } from './lab-facts';
import { checkDnsLabel, checkPort } from './validate';

/** The container deploy.sh runs tayga in, on kind's Docker network. */
export interface Nat64GatewayProps {
  /** The container's name. */
  readonly name: string;
  /** Its IPv6 address on kind's network: the next hop of every node's route to the prefix. */
  readonly address: string;
  /**
   * Its image, which deploy.sh builds when the Docker host lacks it: `base` with the Debian `packages`.
   * @default - Debian 12's tayga 0.9.2-8 (NAT64_GATEWAY_IMAGE)
   */
  readonly image?: { readonly name: string; readonly base: string; readonly packages: readonly string[] };
}

/**
 * The host without IPv6 that the lab's pods reach through the NAT64: deploy.sh runs it on a Docker
 * network of its own without IPv6 (on kind's network Docker would give it an IPv6 address, hence an AAAA
 * record, and DNS64 would synthesize nothing), with the gateway attached there too.
 */
export interface Ipv4OnlyHostProps {
  /** The container's name; the name the pods resolve (an A record only). */
  readonly name: string;
  /** The IPv4-only Docker network it is on. */
  readonly network: string;
  /** Its image: one with nginx and `ip` (it routes tayga's pool back to the gateway). */
  readonly image: string;
  /** The port nginx listens on. */
  readonly port: number;
  /** The nginx.conf it serves (answers name the family and the client address seen). */
  readonly nginxConfig: string;
}

export interface TaygaConfigProps {
  /**
   * The NAT64 prefix tayga translates: an IPv6 /96 whose last 32 bits are the IPv4 address. Not the
   * well-known 64:ff9b::/96 for the lab: tayga (RFC 6052, section 3.1) drops private IPv4 addresses in
   * it; and nothing in ::/8 (RFC 8215's 64:ff9b:1::/48 included), which Debian 12's tayga refuses.
   */
  readonly prefix: string;
  /**
   * IPv4 addresses tayga maps IPv6 clients to (`dynamic-pool`), one per client; the IPv4 host sees them as
   * the source. tayga keeps the lowest address and takes the next one for itself (`ipv4-addr`).
   */
  readonly ipv4Pool: string;
  /**
   * Name of the TUN interface tayga creates.
   * @default "nat64"
   */
  readonly tunDevice?: string;
  /**
   * The gateway container that runs this configuration, named in the lab's facts (`nat64`).
   * @default - none
   */
  readonly gateway?: Nat64GatewayProps;
  /**
   * The IPv4-only host behind the NAT64, named in the lab's facts (`nat64`).
   * @default - none
   */
  readonly ipv4Host?: Ipv4OnlyHostProps;
}

/**
 * The configuration of tayga, the stateless NAT64 (Debian's `tayga` package), for a host outside the
 * cluster on kind's network. Not a Kubernetes object: it is written to `nat64/tayga.conf` under the output
 * directory, where `kubectl apply -f dist` (which does not recurse) never reads it.
 *
 * tayga only translates; the host around it routes: the prefix and the pool to the TUN device, the
 * prefix's return traffic back to the nodes (see docs/ipv6-only.md).
 */
export class TaygaConfig extends Construct implements ILabFactsSection {
  /** Where the config lands, relative to the synth output directory. */
  public static readonly FILE = path.join('nat64', 'tayga.conf');

  /** Every TaygaConfig under `root`, in construct order. */
  public static all(root: IConstruct): TaygaConfig[] {
    return root.node.findAll().filter((c): c is TaygaConfig => c instanceof TaygaConfig);
  }

  public readonly prefix: string;
  public readonly ipv4Pool: string;
  /** tayga's own IPv4 address (ICMP errors, pings): the pool's second address. */
  public readonly ipv4Address: string;
  public readonly tunDevice: string;
  public readonly gateway?: Required<Nat64GatewayProps>;
  public readonly ipv4Host?: Ipv4OnlyHostProps;
  public readonly factsKey = 'nat64';

  constructor(scope: Construct, id: string, props: TaygaConfigProps) {
    super(scope, id);
    const prefix = parseCidr(props.prefix, 'ipv6');
    if (typeof prefix === 'string' || prefix.prefix !== 96) {
      throw new Error(`invalid nat64 prefix ${JSON.stringify(props.prefix)}: must be an ipv6 /96 network`);
    }
    if (prefix.address.toString() === '64:ff9b::') {
      throw new Error(`invalid nat64 prefix ${JSON.stringify(props.prefix)}: tayga drops private ipv4 addresses in the well-known prefix; use a network-specific /96 such as ${DEFAULT_NAT64_PREFIX}`);
    }
    if (prefix.address.toByteArray()[0] === 0) {
      throw new Error(`invalid nat64 prefix ${JSON.stringify(props.prefix)}: tayga 0.9.2 refuses prefixes in ::/8 as reserved; use a network-specific /96 such as ${DEFAULT_NAT64_PREFIX}`);
    }
    const pool = parseCidr(props.ipv4Pool, 'ipv4');
    if (typeof pool === 'string' || pool.prefix > 31) {
      throw new Error(`invalid nat64 ipv4Pool ${JSON.stringify(props.ipv4Pool)}: must be an ipv4 network of /31 or shorter`);
    }
    this.tunDevice = props.tunDevice ?? 'nat64';
    if (!/^[a-zA-Z0-9_-]{1,15}$/.test(this.tunDevice)) {
      throw new Error(`invalid tunDevice ${JSON.stringify(this.tunDevice)}: must be an interface name of 1 to 15 letters, digits, '-' or '_'`);
    }
    this.prefix = props.prefix;
    this.ipv4Pool = props.ipv4Pool;
    const bytes = pool.address.toByteArray();
    bytes[3] += 1;
    this.ipv4Address = ipaddr.fromByteArray(bytes).toString();
    if (props.gateway) {
      checkDnsLabel('gateway name', props.gateway.name);
      if (!ipaddr.IPv6.isValid(props.gateway.address) || props.gateway.address.includes('/')) {
        throw new Error(`invalid gateway address ${JSON.stringify(props.gateway.address)}: must be an ipv6 address`);
      }
      this.gateway = { ...props.gateway, image: props.gateway.image ?? NAT64_GATEWAY_IMAGE };
    }
    if (props.ipv4Host) {
      checkDnsLabel('ipv4 host name', props.ipv4Host.name);
      checkDnsLabel('ipv4 host network', props.ipv4Host.network);
      checkPort('ipv4 host port', props.ipv4Host.port);
      this.ipv4Host = { ...props.ipv4Host };
    }
  }

  /**
   * What the gateway runs (`sh -c SCRIPT sh TAYGA_CONF`), as the NAT64 test runs it too: tayga makes its TUN
   * device, the gateway routes the pool and the prefix into it, then tayga translates in the foreground,
   * logging each new mapping (-d; line-buffered, or tayga 0.9.2 holds its log back when it is not a tty).
   */
  public launchScript(): string {
    return [
      'set -e',
      'tayga -c "$1" --mktun',
      `ip link set ${this.tunDevice} up`,
      `ip route replace ${this.ipv4Pool} dev ${this.tunDevice}`,
      `ip -6 route replace ${this.prefix} dev ${this.tunDevice}`,
      'exec stdbuf -oL -eL tayga -c "$1" -d',
      '',
    ].join('\n');
  }

  /** The Dockerfile of the gateway's image (given to `docker build -` on stdin). */
  public gatewayDockerfile(): string | undefined {
    if (!this.gateway) return undefined;
    const { base, packages } = this.gateway.image;
    return [
      `FROM ${base}`,
      `RUN apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')} && rm -rf /var/lib/apt/lists/*`,
      '',
    ].join('\n');
  }

  public labFacts(): NonNullable<LabFacts['nat64']> {
    return {
      prefix: this.prefix,
      ipv4Pool: this.ipv4Pool,
      ipv4Address: this.ipv4Address,
      tunDevice: this.tunDevice,
      config: TaygaConfig.FILE.split(path.sep).join('/'),
      ...(this.gateway ? {
        gateway: {
          name: this.gateway.name, address: this.gateway.address, image: this.gateway.image.name,
          dockerfile: this.gatewayDockerfile()!, launch: this.launchScript(),
        },
      } : {}),
      ...(this.ipv4Host ? { ipv4Host: { ...this.ipv4Host } } : {}),
    };
  }

  /** tayga.conf (tayga.conf(5)). */
  public toText(): string {
    return [
      '# tayga (NAT64) for the IPv6-only Calico lab, generated by `cdk8s synth` (edit lab.config.yaml, not this file).',
      '# IPv6 clients reach IPv4 host a.b.c.d at <prefix>a.b.c.d; tayga gives each client an address of the pool.',
      `tun-device ${this.tunDevice}`,
      `ipv4-addr ${this.ipv4Address}`,
      `prefix ${this.prefix}`,
      `dynamic-pool ${this.ipv4Pool}`,
      '',
    ].join('\n');
  }

  /** Writes the config under `outdir`. */
  public writeTo(outdir: string): string {
    const file = path.join(outdir, TaygaConfig.FILE);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, this.toText());
    return file;
  }
}
