// Package resource spells the names of the API's top-level resources
// (villages/{code}, villages/{code}/households/{id}, counties/{code},
// banks/{bank}, banks/{bank}/products/{product}) in one place, so that a
// name built by the audit log, a store, a handler or the CLI is the name
// the authorisation policy and the parsers expect. Parsing, which needs
// each field's error, stays with the package that owns the resource.
package resource

// Village is villages/{code}.
func Village(code string) string { return "villages/" + code }

// Household is villages/{village}/households/{id}.
func Household(village, id string) string { return Village(village) + "/households/" + id }

// County is counties/{code}.
func County(code string) string { return "counties/" + code }

// Bank is banks/{bank}.
func Bank(bank string) string { return "banks/" + bank }

// Product is banks/{bank}/products/{product}.
func Product(bank, product string) string { return Bank(bank) + "/products/" + product }
