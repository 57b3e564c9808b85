// Prints every skipped test with its full name (which says why it was skipped), then the plain closing
// line CI reads: "tests: N passed, N failed[, N skipped]".
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skippedNames = results.testResults.flatMap((file) =>
      file.testResults.filter((t) => t.status === 'pending' || t.status === 'todo').map((t) => t.fullName),
    );
    if (skippedNames.length) console.log(`\nskipped:\n${skippedNames.map((name) => `  - ${name}`).join('\n')}`);
    const skipped = results.numPendingTests + results.numTodoTests;
    console.log(
      `tests: ${results.numPassedTests} passed, ${results.numFailedTests + results.numRuntimeErrorTestSuites} failed${skipped ? `, ${skipped} skipped` : ''}`,
    );
  }
}
module.exports = SummaryReporter;
