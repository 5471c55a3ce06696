// Resolves 'loyalty-engine/core' from here, with Node's CommonJS conditions (node + require).
'use strict';
module.exports = require('loyalty-engine/core');
