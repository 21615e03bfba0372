// Share 1 of 2 of the unit tier (see ../unit-tier.ts).
import { runUnitShare } from '../unit-tier.js';

await runUnitShare(1, 2);
