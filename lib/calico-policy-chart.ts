import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { CalicoEchoPolicy } from './calico-echo-policy';
import { POLICY_OUTPUT_DIRECTORY } from './network-policy-chart';

export interface CalicoPolicyChartProps extends ChartProps {
  /**
   * Labels of the lab's pods.
   * @default { app: "multitool" }
   */
  readonly podLabels?: Readonly<Record<string, string>>;
  /**
   * Order of the echo policy.
   * @default 100
   */
  readonly order?: number;
}

/**
 * The lesson's Calico policy (projectcalico.org/v3): ICMP and ICMPv6 echo for the lab's pods, at an
 * explicit order ahead of the Kubernetes NetworkPolicies.
 *
 * Its API is served by the Calico API server (the operator's `APIServer` named `default`), which runs
 * only after Calico is up; so the chart goes to `policy/`, which `kubectl apply -f dist` does not read,
 * and is applied after `kubectl wait --for=condition=Available tigerastatus/apiserver`. Applied too
 * early, kubectl says `no matches for kind "NetworkPolicy" in version "projectcalico.org/v3"` and exits 1.
 */
export class CalicoPolicyChart extends Chart {
  /** Subdirectory of the synth output this chart's file goes to. */
  public readonly outputDirectory = POLICY_OUTPUT_DIRECTORY;
  public readonly echo: CalicoEchoPolicy;

  constructor(scope: Construct, id: string, props: CalicoPolicyChartProps = {}) {
    super(scope, id, { disableResourceNameHashes: true, ...props });
    this.echo = new CalicoEchoPolicy(this, 'Echo', { podLabels: props.podLabels ?? { app: 'multitool' }, order: props.order });
  }
}
