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
