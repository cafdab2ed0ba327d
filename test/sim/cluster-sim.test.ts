/** The simulator sweep over the fault-free profiles: the busiest runs (full client load for the whole run). */
import { describeSweep } from './sim-sweep.js';

describeSweep(['calm', 'lossy']);
