package credit

import (
	"regexp"
	"strings"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Resource names. Lines, decisions, reviews and runs live under the bank
// product (banks/{bank}/products/{product}/...): a bank's principals reach
// them through the bank segment. Consents live under the household.

var (
	bankIDRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	segmentRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
)

// ProductName is banks/{bank}/products/{product}.
func ProductName(bank, product string) string { return resource.Product(bank, product) }

// LineName is the resource name of a line.
func LineName(bank, product, id string) string {
	return ProductName(bank, product) + "/creditLines/" + id
}

// DecisionName is the resource name of a decision.
func DecisionName(bank, product, id string) string {
	return ProductName(bank, product) + "/decisions/" + id
}

// ReviewName is the resource name of a review request.
func ReviewName(bank, product, id string) string {
	return ProductName(bank, product) + "/reviews/" + id
}

// RunName is the resource name of a batch re-assessment.
func RunName(bank, product, id string) string {
	return ProductName(bank, product) + "/reassessments/" + id
}

// ConsentName is the resource name of a consent.
func ConsentName(village, householdID, id string) string {
	return resource.Household(village, householdID) + "/consents/" + id
}

// ParseBank parses banks/{bank}.
func ParseBank(name, field string) (string, error) {
	bank, ok := strings.CutPrefix(name, "banks/")
	if !ok || !bankIDRE.MatchString(bank) {
		return "", fault.InvalidField(field, "must be banks/{bank} with a lower-case bank id, got %q", name)
	}
	return bank, nil
}

// ParseProduct parses banks/{bank}/products/{product}.
func ParseProduct(name, field string) (bank, product string, err error) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "banks" || parts[2] != "products" ||
		!bankIDRE.MatchString(parts[1]) || !bankIDRE.MatchString(parts[3]) {
		return "", "", fault.InvalidField(field, "must be banks/{bank}/products/{product}, got %q", name)
	}
	return parts[1], parts[3], nil
}

// parseChild parses banks/{bank}/products/{product}/{collection}/{id}.
func parseChild(name, field, collection string) (bank, product, id string, err error) {
	i := strings.LastIndex(name, "/"+collection+"/")
	if i < 0 {
		return "", "", "", fault.InvalidField(field, "must be banks/{bank}/products/{product}/%s/{id}, got %q", collection, name)
	}
	bank, product, err = ParseProduct(name[:i], field)
	id = name[i+len(collection)+2:]
	if err != nil || !segmentRE.MatchString(id) {
		return "", "", "", fault.InvalidField(field, "must be banks/{bank}/products/{product}/%s/{id}, got %q", collection, name)
	}
	return bank, product, id, nil
}

// ParseLineName parses a line name.
func ParseLineName(name, field string) (bank, product, id string, err error) {
	return parseChild(name, field, "creditLines")
}

// ParseDecisionName parses a decision name.
func ParseDecisionName(name, field string) (bank, product, id string, err error) {
	return parseChild(name, field, "decisions")
}

// ParseReviewName parses a review name.
func ParseReviewName(name, field string) (bank, product, id string, err error) {
	return parseChild(name, field, "reviews")
}

// ParseRunName parses a re-assessment name.
func ParseRunName(name, field string) (bank, product, id string, err error) {
	return parseChild(name, field, "reassessments")
}

// ParseConsentName parses villages/{v}/households/{h}/consents/{id}.
func ParseConsentName(name, field string) (village, householdID, id string, err error) {
	hh, id, ok := strings.Cut(name, "/consents/")
	if !ok || !segmentRE.MatchString(id) {
		return "", "", "", fault.InvalidField(field, "must be villages/{village}/households/{household}/consents/{id}, got %q", name)
	}
	village, householdID, err = household.ParseName(hh, field)
	return village, householdID, id, err
}
