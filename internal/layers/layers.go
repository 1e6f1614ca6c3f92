// Package layers states the floors of sanzhi's packages, from the bottom
// up, and which imports each floor may not make (docs/ARCHITECTURE.md).
// Its test walks every non-test Go file of the module and fails on an
// import that reaches up a floor or, from the domain, out to I/O.
package layers

// Floor is one layer of packages.
type Floor struct {
	Name string
	// Packages are module-relative directories; a trailing "/..." takes
	// the directory and everything under it.
	Packages []string
	// Forbidden are import paths (module-relative for our own packages,
	// full for others; "/..." as above) no file on this floor may import.
	Forbidden []string
}

// io is what a package that does no I/O has no use for: the network,
// databases, the transports' generated code.
var io = []string{
	"database/sql", "net", "net/http", "google.golang.org/grpc/...", "github.com/jackc/pgx/v5/...",
	"modernc.org/sqlite/...", "proto/...",
}

var above = map[string][]string{
	"domain":   {"adapters/...", "app/...", "cmd/...", "internal/..."},
	"adapters": {"app/...", "adapters/rpc/...", "adapters/gateway/...", "adapters/server/...", "cmd/...", "proto/..."},
	"app":      {"adapters/rpc/...", "adapters/gateway/...", "adapters/server/...", "cmd/...", "proto/...", "google.golang.org/grpc/..."},
}

// Floors, bottom first. The transports (adapters/rpc, adapters/gateway,
// adapters/server, cmd) sit on top and may import anything below.
var Floors = []Floor{
	{Name: "bottom", Packages: []string{"fault", "paging", "idnum", "resource", "dectext"},
		Forbidden: append([]string{"access/...", "audit/...", "scoring/...", "lending/...", "adapters/...", "app/...", "cmd/..."}, io...)},
	{Name: "domain", Packages: []string{"access/...", "audit/...", "scoring/...", "lending/...", "examples/..."},
		Forbidden: append(above["domain"], io...)},
	{Name: "adapters", Packages: []string{"adapters/sqlstore/...", "adapters/sqlite/...", "adapters/postgres/...", "adapters/pii/...",
		"adapters/merklelog/...", "adapters/simrun/...", "adapters/delivery/...", "adapters/telemetry/...", "adapters/demo/...",
		"adapters/storetest/...", "adapters/modelreport/..."},
		Forbidden: above["adapters"]},
	{Name: "app", Packages: []string{"app/..."}, Forbidden: above["app"]},
}
