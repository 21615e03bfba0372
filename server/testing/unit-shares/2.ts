// Share 2 of 2 of the unit tier (see ../unit-tier.ts).
import { runUnitShare } from '../unit-tier.js';

await runUnitShare(2, 2);
