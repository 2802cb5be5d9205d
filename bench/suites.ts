// Every benchmark suite that `payflow bench` runs, one line per area.
import type { BenchSuite } from './harness.js';
import { selfCheckSuite } from './selfcheck.js';
import { openflowSuite } from './openflow.js';
import { paymentsSuite } from './payments.js';
import { dataplaneSuite } from './dataplane.js';
import { controllerSuite } from './controller.js';
import { controllerApiSuite } from './controller-api.js';
import { controllerOvsSuite } from './controller-ovs.js';
import { switchForwardSuite } from './switch-forward.js';
import { switchSuite } from './switch.js';
import { switchScheduleSuite } from './switch-schedule.js';

export const suites: readonly BenchSuite[] = [selfCheckSuite, paymentsSuite, openflowSuite, controllerSuite, controllerApiSuite, controllerOvsSuite, dataplaneSuite, switchSuite, switchScheduleSuite, switchForwardSuite];
