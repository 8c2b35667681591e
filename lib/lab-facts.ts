/**
 * The lab's facts: what the scripts (deploy, verify, explain, destroy) need to know about a synthesized
 * lab, written by synth as `<dist>/lab/facts.json` and read by scripts/lab-facts.js. The facts come from
 * the constructs the `Lab` built, never from lab.config.yaml or the YAML: one source for synth and scripts.
 *
 * Defined once with TypeBox, like the configuration: the TypeScript types come from it, and
 * `npm run gen:schema` writes its JSON Schema to lab.facts.schema.json. TypeBox is loaded only when the
 * schema is asked for; the types cost nothing at run time.
 *
 * A variant adds its own section: an optional property here (with its description), set by a construct
 * implementing `ILabFactsSection` under the Lab (see docs/scripts.md).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Static, TObject } from '@sinclair/typebox';
import { IConstruct } from 'constructs';

/** Bumped when a key changes meaning or disappears; adding an optional section does not bump it. */
export const FACTS_VERSION = 1;
/** Where the facts land, relative to the synth output directory (a subdirectory: kubectl does not recurse). */
export const FACTS_FILE = path.join('lab', 'facts.json');

function buildSchema() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Type } = require('@sinclair/typebox') as typeof import('@sinclair/typebox');
  const strict = { additionalProperties: false };
  const family = Type.Union([Type.Literal('IPv4'), Type.Literal('IPv6')]);
  const encapsulation = Type.Union([Type.Literal('Never'), Type.Literal('Always'), Type.Literal('CrossSubnet')]);
  const port = Type.Integer({ minimum: 1, maximum: 65535 });
  const perFamily = (description: string) => Type.Object({
    ipv4: Type.Optional(Type.String({ description: `IPv4 ${description}` })),
    ipv6: Type.Optional(Type.String({ description: `IPv6 ${description}` })),
  }, { ...strict, description });

  // The policy lesson's section (`policy: on` only; lib/policy-lesson-facts.ts writes it).
  const policySection = () => {
    const direction = Type.Union([Type.Literal('Ingress'), Type.Literal('Egress')]);
    const peer = Type.Union([
      Type.Object({
        kind: Type.Literal('pod'),
        namespace: Type.String(),
        selector: Type.String({ description: 'Its labels, as kubectl -l takes them.' }),
        onAnotherNode: Type.Optional(Type.Literal(true, { description: 'The lesson\'s second pod, on another node than the first.' })),
        description: Type.String(),
      }, strict),
      Type.Object({ kind: Type.Literal('host'), name: Type.String({ description: 'The external host\'s container.' }), description: Type.String() }, strict),
      Type.Object({ kind: Type.Literal('node-gateway'), description: Type.String(), ipv4: Type.String(), ipv6: Type.String() }, strict),
    ]);
    return Type.Object({
      mode: Type.Literal('on'),
      directory: Type.String({ description: 'The subdirectory of the dist directory deploy applies after the Calico API server is Available.' }),
      files: Type.Array(Type.String(), { description: 'Its files, relative to the dist directory, in apply order.' }),
      namespace: Type.String({ description: 'The namespace the lesson\'s policies select pods in.' }),
      apiServer: Type.Object({
        tigeraStatus: Type.String({ description: 'The TigeraStatus that must be Available.' }),
        apiService: Type.String({ description: 'The APIService of projectcalico.org/v3 that must be Available.' }),
      }, { ...strict, description: 'What serves projectcalico.org/v3, which the Calico policy needs.' }),
      externalHost: Type.Object({
        ipv4: Type.String(),
        ipv6: Type.String(),
      }, { ...strict, description: 'The external host\'s fixed addresses (externalHost in the configuration): the policies name them.' }),
      policies: Type.Array(Type.Object({
        api: Type.Union([Type.Literal('projectcalico.org/v3'), Type.Literal('networking.k8s.io/v1')]),
        kind: Type.String(),
        name: Type.String(),
        namespace: Type.String(),
        calicoName: Type.String({ description: 'The name Felix gives it (its chains\' "Policy <calicoName> ingress|egress" comments).' }),
        order: Type.Number({ description: 'Calico\'s order: lower first; every Kubernetes NetworkPolicy has 1000.' }),
        types: Type.Array(direction),
        file: Type.String({ description: 'The file it is in, relative to the dist directory.' }),
      }, strict), { description: 'The lesson\'s policies, in Calico\'s evaluation order.' }),
      matrix: Type.Array(Type.Object({
        id: Type.String({ description: 'Stable id, verify\'s check policy/<id>.' }),
        from: peer,
        to: peer,
        family,
        protocol: Type.Union([Type.Literal('TCP'), Type.Literal('UDP'), Type.Literal('ICMP'), Type.Literal('ICMPv6'), Type.Literal('ARP')]),
        port: Type.Optional(port),
        icmpType: Type.Optional(Type.Integer()),
        via: Type.Optional(Type.Object({ service: Type.String(), port }, strict)),
        probe: Type.Union([Type.Literal('http'), Type.Literal('dns'), Type.Literal('ping'), Type.Literal('tcp-connect'), Type.Literal('neighbour')]),
        expect: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
        deniedShowsAs: Type.Optional(Type.Literal('timeout')),
        control: Type.Optional(Type.String({ description: 'For a denied row: the allowed row along the same path, which tells denied from broken.' })),
        decidedBy: Type.Array(Type.Object({
          api: Type.Union([Type.Literal('networking.k8s.io/v1'), Type.Literal('projectcalico.org/v3'), Type.Literal('felix')]),
          name: Type.String(),
          direction: Type.Union([Type.Literal('ingress'), Type.Literal('egress')]),
          calicoName: Type.String(),
        }, strict)),
        why: Type.String(),
      }, strict), { description: 'The allowed/denied matrix (lib/policy-matrix.ts), one row per check.' }),
    }, { ...strict, description: 'The network-policy lesson (policy: on): absent with policy off.' });
  };

  return Type.Object({
    factsVersion: Type.Literal(FACTS_VERSION, { description: 'Version of this format; readers refuse a newer one.' }),
    name: Type.String({ description: 'The lab (and kind cluster) name.' }),
    families: Type.Array(family, { minItems: 1, description: 'The IP families the lab runs, primary first.' }),
    versions: Type.Object({
      kubernetes: Type.String(),
      calico: Type.String(),
      tigeraOperator: Type.String(),
      kind: Type.String(),
    }, { ...strict, description: 'The versions the lab is built and tested for.' }),
    cluster: Type.Object({
      kindConfig: Type.String({ description: 'The kind config, relative to the dist directory.' }),
      nodeImage: Type.String({ description: 'The kind node image every node runs.' }),
      nodes: Type.Array(Type.Object({
        name: Type.String({ description: 'The node name kind gives it (<cluster>-control-plane, <cluster>-worker, <cluster>-worker2, ...).' }),
        role: Type.Union([Type.Literal('control-plane'), Type.Literal('worker')]),
      }, strict), { minItems: 1, description: 'Every node of the cluster, in kind config order.' }),
      podSubnets: perFamily('pod subnet (kind\'s podSubnet; equal to the pool\'s cidr).'),
      serviceSubnets: perFamily('Service ClusterIP range (kind\'s serviceSubnet).'),
    }, { ...strict, description: 'The kind cluster.' }),
    calico: Type.Object({
      bgp: Type.Boolean({ description: 'Whether BIRD runs (Installation calicoNetwork.bgp Enabled).' }),
      apiServer: Type.Boolean({ description: 'Whether the operator\'s APIServer is created (and with it TigeraStatus apiserver).' }),
      pools: Type.Array(Type.Object({
        name: Type.String(),
        family,
        cidr: Type.String(),
        blockSize: Type.Integer(),
        vxlanMode: encapsulation,
        ipipMode: encapsulation,
        natOutgoing: Type.Boolean(),
      }, strict), { description: 'The IPPools, one per family, in apply order.' }),
    }, { ...strict, description: 'Calico as the manifests configure it.' }),
    workload: Type.Object({
      daemonSet: Type.Object({
        name: Type.String(),
        namespace: Type.String(),
        selector: Type.String({ description: 'The label selector of its pods, as kubectl -l takes it (app=multitool).' }),
        image: Type.String(),
        port: port,
      }, { ...strict, description: 'The test workload: one pod per node, nginx answering on every family.' }),
      services: Type.Array(Type.Object({
        name: Type.String(),
        namespace: Type.String(),
        ipFamilyPolicy: Type.Union([Type.Literal('SingleStack'), Type.Literal('PreferDualStack'), Type.Literal('RequireDualStack')]),
        ipFamilies: Type.Array(family, { minItems: 1 }),
        port: port,
        targetPort: port,
      }, strict), { description: 'The Services of the workload, in apply order.' }),
    }, { ...strict, description: 'The workload and its Services.' }),
    externalHost: Type.Object({
      name: Type.String({ description: 'The container outside the cluster the egress checks reach (deploy starts it).' }),
      image: Type.String(),
      port: port,
      nginxConfig: Type.String({ description: 'The nginx.conf it serves: the pods\' own, which names the client address it saw.' }),
    }, { ...strict, description: 'The host outside the cluster that shows NAT at work.' }),
    images: Type.Array(Type.String(), { description: 'Every container image the manifests run, sorted (deploy preloads them).' }),
    policy: Type.Optional(policySection()),
    dns64: Type.Optional(Type.Object({
      prefix: Type.Optional(Type.String({ description: 'The /96 CoreDNS synthesizes AAAA records in (dns64) for names with A records only.' })),
      upstreams: Type.Array(Type.String(), { minItems: 1, description: 'The resolvers CoreDNS forwards names outside the cluster to (forward), reachable over IPv6.' }),
      coreDns: Type.Object({
        namespace: Type.String(),
        configMap: Type.String({ description: 'kubeadm\'s ConfigMap that the dist replaces (its Corefile key).' }),
        deployment: Type.String({ description: 'kubeadm\'s CoreDNS Deployment, which mounts the ConfigMap.' }),
        corefileSha256: Type.String({ description: 'sha256 of the dist\'s Corefile: deploy sets it as a pod-template annotation, so a new Corefile rolls the pods.' }),
        hashAnnotation: Type.String({ description: 'The pod-template annotation that carries corefileSha256.' }),
      }, { ...strict, description: 'The cluster\'s CoreDNS.' }),
      forwarder: Type.Optional(Type.Object({
        name: Type.String({ description: 'The container deploy starts on kind\'s Docker network.' }),
        image: Type.String(),
        address: Type.String({ description: 'Its IPv6 address on kind\'s network (docker run --ip6): the first upstream.' }),
        corefile: Type.String({ description: 'Its Corefile: answer on that address with what Docker\'s embedded DNS knows.' }),
      }, { ...strict, description: 'The DNS forwarder in front of Docker\'s embedded DNS.' })),
    }, { ...strict, description: 'IPv6-only labs: the cluster DNS (CoreDNS with DNS64) and the forwarder it asks.' })),
    nat64: Type.Optional(Type.Object({
      prefix: Type.String({ description: 'The /96 tayga translates: <prefix>a.b.c.d reaches IPv4 host a.b.c.d.' }),
      ipv4Pool: Type.String({ description: 'tayga\'s dynamic pool: the IPv4 source addresses IPv6 clients get.' }),
      ipv4Address: Type.String({ description: 'tayga\'s own IPv4 address (ICMP errors, ping).' }),
      tunDevice: Type.String(),
      config: Type.String({ description: 'tayga.conf, relative to the dist directory.' }),
      gateway: Type.Optional(Type.Object({
        name: Type.String({ description: 'The container deploy starts tayga in, on kind\'s network and the IPv4-only network.' }),
        address: Type.String({ description: 'Its IPv6 address on kind\'s network (docker run --ip6): the next hop of every node\'s route to the prefix.' }),
        image: Type.String({ description: 'Its image, built by deploy when the Docker host lacks it.' }),
        dockerfile: Type.String({ description: 'How that image is built (docker build - on stdin).' }),
        launch: Type.String({ description: 'What it runs: sh -c LAUNCH sh <path of tayga.conf> (routes the pool and the prefix into tayga\'s TUN device, then runs tayga).' }),
      }, { ...strict, description: 'The NAT64 gateway.' })),
      ipv4Host: Type.Optional(Type.Object({
        name: Type.String({ description: 'The container; the name the pods resolve (an A record only, so DNS64 synthesizes its AAAA).' }),
        network: Type.String({ description: 'The Docker network without IPv6 it is on (deploy creates it; the gateway joins it).' }),
        image: Type.String(),
        port: port,
        nginxConfig: Type.String({ description: 'The nginx.conf it serves: answers name the family and the client address seen.' }),
      }, { ...strict, description: 'The IPv4-only host the pods reach through the NAT64.' })),
    }, { ...strict, description: 'IPv6-only labs: the NAT64 (tayga) that carries pods\' traffic to IPv4-only hosts, and such a host.' })),
    routing: Type.Optional(Type.Union([Type.Literal('vxlan'), Type.Literal('bgp')], {
      description: 'How pod traffic crosses between nodes: "bgp" (native routing, BIRD, an external FRR router); absent means "vxlan", the default lab.',
    })),
    bgp: Type.Optional(Type.Object({
      asNumber: Type.Integer({ description: 'The cluster\'s AS number (BGPConfiguration default asNumber).' }),
      nodeToNodeMesh: Type.Boolean({ description: 'Whether the nodes peer with each other (BGPConfiguration nodeToNodeMeshEnabled).' }),
      serviceClusterIPs: Type.Array(Type.String(), { description: 'The Service ClusterIP ranges every node advertises (BGPConfiguration serviceClusterIPs).' }),
      peers: Type.Array(Type.Object({
        name: Type.String({ description: 'The BGPPeer\'s name.' }),
        family,
        peerIP: Type.String({ description: 'The router\'s address every node peers with over this family.' }),
        asNumber: Type.Integer({ description: 'The router\'s AS number.' }),
      }, strict), { description: 'The BGPPeers to the external router, one per family of the lab: global peers, every node has a session to each.' }),
      nodeStatuses: Type.Array(Type.Object({
        name: Type.String({ description: 'The CalicoNodeStatus object\'s name.' }),
        node: Type.String({ description: 'The node whose calico-node reports into it.' }),
      }, strict), { description: 'The CalicoNodeStatus objects the manifests create, one per node: calico-node writes its BGP sessions into their status.' }),
      router: Type.Object({
        name: Type.String({ description: 'The router\'s container name and hostname (<cluster>-router).' }),
        image: Type.String({ description: 'FRR\'s image the container runs.' }),
        asNumber: Type.Integer({ description: 'The router\'s AS number.' }),
        addresses: perFamily('address of the router on kind\'s Docker network.'),
        network: perFamily('kind\'s Docker network, the range the router accepts sessions from.'),
        configDir: Type.String({ description: 'The router\'s FRR configuration, relative to the dist directory (mounted as /etc/frr).' }),
        configFiles: Type.Array(Type.String(), { description: 'The files of configDir, sorted.' }),
      }, { ...strict, description: 'The external router: FRR in a container beside the nodes.' }),
    }, { ...strict, description: 'Routing "bgp": BIRD in calico-node, the node-to-node mesh and an external FRR router.' })),
  }, {
    ...strict,
    title: 'calico-ipv6-lab facts (<dist>/lab/facts.json)',
    description: 'What synth knows about the lab, for the scripts: written by `cdk8s synth`, read by scripts/lab-facts.js.',
  });
}

/** The facts of one lab, as facts.json holds them. */
export type LabFacts = Static<ReturnType<typeof buildSchema>>;

let schema: TObject | undefined;

/** The JSON Schema of facts.json (a TypeBox schema is a JSON Schema); built on first use. */
export function labFactsSchema(): TObject {
  schema ??= buildSchema();
  return schema;
}

/** The schema as written to lab.facts.schema.json: plain JSON, with the draft it follows. */
export function labFactsJsonSchema(): Record<string, unknown> {
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...JSON.parse(JSON.stringify(labFactsSchema())) };
}

/**
 * A construct that adds a section to its Lab's facts: `factsKey` names the section (a key the schema
 * above declares), `labFacts()` returns its value. The Lab collects every such construct below it.
 */
export interface ILabFactsSection extends IConstruct {
  readonly factsKey: string;
  labFacts(): unknown;
}

export function isLabFactsSection(c: IConstruct): c is ILabFactsSection {
  const s = c as Partial<ILabFactsSection>;
  return typeof s.factsKey === 'string' && typeof s.labFacts === 'function';
}

/** The file's text: pretty-printed, keys in the order the facts were built, trailing newline. */
export function renderFacts(facts: LabFacts): string {
  return `${JSON.stringify(facts, null, 2)}\n`;
}

/** Writes the facts under `outdir` (at FACTS_FILE); returns the file. */
export function writeFacts(facts: LabFacts, outdir: string): string {
  const file = path.join(outdir, FACTS_FILE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, renderFacts(facts));
  return file;
}

