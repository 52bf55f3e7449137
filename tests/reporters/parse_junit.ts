// Reads a JUnit file with the parsers of the two JavaScript reporters teams use, exactly as their
// actions call them, and prints what each would put on the pull request: counts and annotations.
//
//   node parse_junit.cjs <junit.xml> <workspace> <out.json> <mikepenz's check_title_template>
//
// The result goes to <out.json>: both reporters' libraries print their own workflow commands.
// Bundled by tests/reporter_parsers.py with esbuild; the sources are the reporters' own, vendored
// unchanged under this folder (see README.md).
import {readFileSync, writeFileSync} from 'fs'
import {execFileSync} from 'child_process'

import {parseTestReports} from './mikepenz-action-junit-report/src/testParser.js'
import {PhpunitJunitParser} from './dorny-test-reporter/src/parsers/phpunit-junit/phpunit-junit-parser.js'
import {getAnnotations} from './dorny-test-reporter/src/report/get-annotations.js'
import {normalizeDirPath} from './dorny-test-reporter/src/utils/path-utils.js'

async function mikepenz(junit: string, titleTemplate: string): Promise<object> {
  // The inputs of the README's workflow (annotate_notice: false, its check_title_template), the
  // action's defaults otherwise.
  const result = await parseTestReports(
    'migration-check', '', junit, '', false, false, false,
    ['/build/', '/__pycache__/', '/node_modules/'], titleTemplate, '/')
  return {
    total: result.totalCount, failed: result.failed, skipped: result.skipped, passed: result.passed,
    annotations: result.globalAnnotations
      .filter(a => a.annotation_level === 'failure')
      .map(a => ({path: a.path, line: a.start_line, title: a.title}))
  }
}

async function dorny(junit: string): Promise<object> {
  // As dorny/test-reporter's main does for a local file: tracked files from git, the cwd as workDir.
  const trackedFiles = execFileSync('git', ['ls-files', '-z'], {encoding: 'utf8'}).split('\0').filter(f => f)
  const parser = new PhpunitJunitParser({parseErrors: true, workDir: normalizeDirPath(process.cwd(), true), trackedFiles})
  const result = await parser.parse(junit, readFileSync(junit, 'utf8'))
  return {
    total: result.tests, failed: result.failed, skipped: result.skipped, passed: result.passed,
    annotations: getAnnotations([result], 50).map(a => ({path: a.path, line: a.start_line, title: a.title}))
  }
}

async function main(): Promise<void> {
  const [junit, workspace, out, titleTemplate] = process.argv.slice(2)
  process.chdir(workspace)
  const report = {mikepenz: await mikepenz(junit, titleTemplate), dorny: await dorny(junit)}
  writeFileSync(out, JSON.stringify(report))
}

main().catch(error => {
  process.stderr.write(`${error}\n`)
  process.exit(1)
})
