// Package modelrisk measures how well a credit policy version's scorecard
// works and whom it favours: back-testing over decisions with known
// outcomes (KS, AUC, Gini, ROC, bad rate and calibration by grade),
// stability against the population the version was activated on (PSI of
// the score and of each characteristic), and fairness of the decisions
// (approval rate, average limit and rate by village, sex and age band,
// with the adverse-impact ratio). docs/MODEL-RISK.md states every
// formula and threshold.
//
// The package is pure and streams: the caller reads decisions one at a
// time (a store cursor), adds each to a Tally and drops it. A Tally keeps
// counters only — one histogram over the policy's score range, bin counts
// per characteristic and a handful of sums per fairness group — so its
// memory does not grow with the population, and no sort is needed: the
// scores are whole numbers in a range the policy declares. Tallies of
// disjoint parts of a population merge (Merge), so the reading may be
// split across workers. Report turns a Tally into figures; rendering them
// (HTML, SVG, CSV) is the adapters' business.
package modelrisk
