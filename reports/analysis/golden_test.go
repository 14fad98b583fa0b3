package analysis

// goldenRun is the run directory the golden files of package reports
// are made from (reports/testdata/run).
const goldenRun = "../testdata/run"
