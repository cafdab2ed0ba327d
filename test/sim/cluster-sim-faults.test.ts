/** The simulator sweep over the fault profiles: partitions, crashes, membership changes and all of them at once. */
import { describeSweep } from './sim-sweep.js';

describeSweep(['partitions', 'crashes', 'membership', 'chaos']);
