// Starts GOV.UK Frontend's components and our own. Loaded as a module from
// base.html: browsers that cannot run modules get the no-JavaScript page, which
// works, and the CSP allows it because it is a file from this site.
import { initAll } from '../govuk/govuk-frontend.min.js'

import { initTimeoutWarning } from './timeout-warning.mjs'

initAll()
initTimeoutWarning(document.querySelector('[data-module="app-timeout-warning"]'))
