import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import type { CalicoPolicyChart } from './calico-policy-chart';
import type { ILabFactsSection, LabFacts } from './lab-facts';
import type { NetworkPolicyChart } from './network-policy-chart';
import type { MatrixPeer, PolicyMatrixRow } from './policy-matrix';

/** The `policy` section of the lab's facts, as facts.json holds it. */
export type PolicyLessonFactsSection = NonNullable<LabFacts['policy']>;

/** The order Calico gives every Kubernetes NetworkPolicy (libcalico-go lib/backend/k8s/conversion/conversion.go, K8sNetworkPolicyToCalico). */
export const K8S_POLICY_ORDER = 1000;

/** What deploy waits for before it applies `policy/`: the Calico API server serves projectcalico.org/v3. */
export const CALICO_API_SERVER = { tigeraStatus: 'apiserver', apiService: 'v3.projectcalico.org' } as const;

export interface PolicyLessonFactsProps {
  /** The lesson's Calico chart (applied first). */
  readonly calico: CalicoPolicyChart;
  /** The lesson's Kubernetes NetworkPolicy chart. */
  readonly kubernetes: NetworkPolicyChart;
  /** The allowed/denied matrix (`labPolicyMatrix`). */
  readonly matrix: readonly PolicyMatrixRow[];
  /**
   * Extension of the synthesized files.
   * @default ".k8s.yaml"
   */
  readonly fileExtension?: string;
}

/**
 * The policy lesson's section of the lab's facts (`policy`): which files deploy applies after the Calico
 * API server is Available, the policies as Calico names and orders them, the external host's fixed
 * addresses, and the allowed/denied matrix verify checks row by row. Present only with `policy: on`,
 * so the default lab's facts stay as they are.
 */
export class PolicyLessonFacts extends Construct implements ILabFactsSection {
  public readonly factsKey = 'policy';
  private readonly props: PolicyLessonFactsProps;

  constructor(scope: Construct, id: string, props: PolicyLessonFactsProps) {
    super(scope, id);
    if (props.calico.outputDirectory !== props.kubernetes.outputDirectory) {
      throw new Error(`invalid policy lesson charts: they go to ${JSON.stringify(props.calico.outputDirectory)} and ${JSON.stringify(props.kubernetes.outputDirectory)}; both must go to one directory, applied in one step`);
    }
    this.props = props;
  }

  public labFacts(): PolicyLessonFactsSection {
    const { calico, kubernetes, matrix } = this.props;
    const directory = calico.outputDirectory;
    const ext = this.props.fileExtension ?? '.k8s.yaml';
    // placeChartFiles numbers the subdirectory's files in apply order: the Calico chart, then the Kubernetes one.
    const fileOf = (chart: Chart, index: number) => `${directory}/${String(index).padStart(4, '0')}-${chart.node.id}${ext}`;
    const calicoFile = fileOf(calico, 0);
    const kubernetesFile = fileOf(kubernetes, 1);
    const echo = calico.echo;
    const k8sPolicies = [kubernetes.dns, kubernetes.externalHost, kubernetes.peers, kubernetes.defaultDeny];
    const k8sTypes = (resource: { toJson(): any }): Array<'Ingress' | 'Egress'> => [...resource.toJson().spec.policyTypes];
    return {
      mode: 'on',
      directory,
      files: [calicoFile, kubernetesFile],
      namespace: kubernetes.defaultDeny.namespace,
      apiServer: { ...CALICO_API_SERVER },
      externalHost: { ...kubernetes.externalHost.addresses },
      policies: [
        {
          api: 'projectcalico.org/v3', kind: 'NetworkPolicy', name: echo.name, namespace: echo.namespace,
          calicoName: `${echo.namespace}/${echo.name}`, order: echo.order, types: [...echo.spec.types!] as Array<'Ingress' | 'Egress'>, file: calicoFile,
        },
        ...k8sPolicies.map(p => ({
          api: 'networking.k8s.io/v1' as const, kind: 'NetworkPolicy', name: p.name, namespace: p.namespace,
          calicoName: `${p.namespace}/knp.default.${p.name}`, order: K8S_POLICY_ORDER, types: k8sTypes(p.resource), file: kubernetesFile,
        })),
      ],
      matrix: matrix.map(r => ({
        id: r.id,
        from: peerFacts(r.from),
        to: peerFacts(r.to),
        family: r.family,
        protocol: r.protocol,
        ...(r.port !== undefined ? { port: r.port } : {}),
        ...(r.icmpType !== undefined ? { icmpType: r.icmpType } : {}),
        ...(r.via ? { via: { service: r.via.service, port: r.via.port } } : {}),
        probe: r.probe,
        expect: r.expect,
        ...(r.deniedShowsAs ? { deniedShowsAs: r.deniedShowsAs } : {}),
        ...(r.control ? { control: r.control } : {}),
        decidedBy: r.decidedBy.map(d => ({ api: d.api, name: d.name, direction: d.direction, calicoName: d.calicoName })),
        why: r.why,
      })),
    };
  }
}

function peerFacts(p: MatrixPeer): PolicyLessonFactsSection['matrix'][number]['from'] {
  switch (p.kind) {
    case 'pod': return {
      kind: 'pod', namespace: p.namespace, selector: Object.entries(p.labels).map(([k, v]) => `${k}=${v}`).join(','),
      ...(p.onAnotherNode ? { onAnotherNode: true } : {}), description: p.description,
    };
    case 'host': return { kind: 'host', name: p.name, description: p.description };
    default: return { kind: 'node-gateway', description: p.description, ipv4: p.addresses.ipv4, ipv6: p.addresses.ipv6 };
  }
}
