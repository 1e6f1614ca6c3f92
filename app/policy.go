package app

import "github.com/sanzhi/sanzhi/scoring/policies"

// PolicyChecker validates a credit policy document (see policies.Check).
var PolicyChecker policies.Checker = policies.Check
