#!/usr/bin/env node
// The gantry command for `node bin/gantry.js ...`; bin/gantry (a shell script) is the faster
// way in, see there.
import '../dist/gantry.mjs';
