package simulate

import "github.com/sanzhi/sanzhi/scoring/modelrisk"

// PoolFairness returns fr with each dimension's groups of fewer than
// MinCell decisions pooled (the Aggregate view's disclosure rule), for
// other reports with fairness tables: the back-test's, shown to a bank.
func PoolFairness(fr modelrisk.FairnessReport) modelrisk.FairnessReport { return poolFairness(fr) }
