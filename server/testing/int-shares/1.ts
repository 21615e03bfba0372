// Share 1 of 3 of the integration tier (see ../int-tier.ts).
import { runIntShare } from '../int-tier.js';

runIntShare(1, 3);
