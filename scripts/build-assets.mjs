// Copies GOV.UK Frontend's compiled files from node_modules into static/govuk/,
// where Django's staticfiles (and whitenoise) serve them. Run by `npm run build:assets`
// after `npm ci`; the output folder is rebuilt from scratch and is not committed.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const source = join(root, 'node_modules', 'govuk-frontend', 'dist', 'govuk')
const target = join(root, 'static', 'govuk')

if (!existsSync(source)) {
  console.error(`Missing ${source}: run "npm ci" first.`)
  process.exit(1)
}

rmSync(target, { recursive: true, force: true })
mkdirSync(target, { recursive: true })

// The stylesheet, the ES module bundle, and their source maps: collectstatic's
// manifest storage follows the sourceMappingURL comments, so the maps must exist.
const files = [
  'govuk-frontend.min.css',
  'govuk-frontend.min.css.map',
  'govuk-frontend.min.js',
  'govuk-frontend.min.js.map'
]
for (const file of files) {
  cpSync(join(source, file), join(target, file))
}
cpSync(join(source, 'assets'), join(target, 'assets'), { recursive: true })

// GOV.UK Frontend's CSS points at /assets/... on the site root. Our files live
// under /static/govuk/, so make the references relative to the stylesheet.
const cssPath = join(target, 'govuk-frontend.min.css')
const css = readFileSync(cssPath, 'utf8')
const rewritten = css.replaceAll('url(/assets/', 'url(assets/')
if (rewritten.includes('url(/')) {
  console.error('govuk-frontend.min.css still has an absolute url(/...) after rewriting')
  process.exit(1)
}
writeFileSync(cssPath, rewritten)

const { version } = JSON.parse(
  readFileSync(join(root, 'node_modules', 'govuk-frontend', 'package.json'), 'utf8')
)
console.log(`Copied govuk-frontend ${version} into static/govuk/`)
