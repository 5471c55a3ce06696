// Resolves 'loyalty-engine/progress' from here, with Node's CommonJS conditions (node + require).
'use strict';
module.exports = require('loyalty-engine/progress');
