// The cdk8s app: `npx cdk8s synth` runs this (see cdk8s.yaml). All logic lives in lib/.
import { main } from './lib/synth';

main();
