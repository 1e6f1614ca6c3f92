# sanzhi — build, code generation, lint and test.
#
#   make help      lists the targets
#   make ci        what CI runs (.ci/run): tools proto-check lint breaking test
#
# Every tool is pinned below and installed into ./bin by `go install` from the
# Go module proxy; nothing is assumed to be on the machine but Go, git and a
# POSIX shell. See docs/BUILD.md.

SHELL         := bash
.SHELLFLAGS   := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS     += --no-print-directory

GO   ?= go
BIN  := $(CURDIR)/bin
# VERSION is a release's version, stamped into the binaries by make build.
VERSION ?= dev
# Our tools first; /usr/local/go/bin last so `go` is found on a bare machine.
export PATH := $(BIN):$(PATH):/usr/local/go/bin

# ---- pinned tool versions --------------------------------------------------
BUF_VERSION                := v1.75.0
# protoc-gen-go follows the google.golang.org/protobuf runtime in go.mod.
PROTOBUF_GO_FALLBACK       := v1.36.12
PROTOC_GEN_GO_VERSION      := $(or $(shell $(GO) list -m -f '{{.Version}}' google.golang.org/protobuf 2>/dev/null),$(PROTOBUF_GO_FALLBACK))
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
GRPC_GATEWAY_VERSION       := v2.33.0
# staticcheck 2026.1.x (v0.8.x) is the first release line built for Go 1.26.
STATICCHECK_VERSION        := v0.8.2
# validate.proto for protovalidate; comes from the Go module cache (no BSR access).
PROTOVALIDATE_VERSION      := v1.2.2
# nfpm builds the .deb and .rpm (make package) without dpkg or rpm.
NFPM_VERSION               := v2.48.0

# ---- paths ------------------------------------------------------------------
BUILD          := .build
PROTODEPS      := $(BUILD)/protodeps
OPENAPI_DIR    := adapters/gateway/openapi
GENERATED_DIRS := proto $(OPENAPI_DIR)
STAMPS         := $(BIN)/.stamps
# Node tools (@redocly/cli, google-proto-files), pinned by package-lock.json
# and installed by npm ci from the npm registry; only openapi-lint and
# bundle need them.
NODE_TOOLS     := tools/node
NPM            ?= npm
DIST           := dist

# ---- tools --------------------------------------------------------------------
# $(call go-tool,NAME,PACKAGE,VERSION) defines a stamp file
# bin/.stamps/NAME@VERSION whose rule runs `go install PACKAGE@VERSION` into
# bin/. A new version means a new stamp name, so the tool is reinstalled only
# when it is missing or its pin changes.
TOOL_STAMPS :=
define go-tool
$(STAMPS)/$(1)@$(3):
	@rm -f $(STAMPS)/$(1)@*
	@echo "==> go install $(2)@$(3)"
	@GOBIN=$(BIN) $(GO) install $(2)@$(3)
	@mkdir -p $(STAMPS) && touch $$@
TOOL_STAMPS += $(STAMPS)/$(1)@$(3)
endef

$(eval $(call go-tool,buf,github.com/bufbuild/buf/cmd/buf,$(BUF_VERSION)))
$(eval $(call go-tool,protoc-gen-go,google.golang.org/protobuf/cmd/protoc-gen-go,$(PROTOC_GEN_GO_VERSION)))
$(eval $(call go-tool,protoc-gen-go-grpc,google.golang.org/grpc/cmd/protoc-gen-go-grpc,$(PROTOC_GEN_GO_GRPC_VERSION)))
$(eval $(call go-tool,protoc-gen-grpc-gateway,github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway,$(GRPC_GATEWAY_VERSION)))
$(eval $(call go-tool,protoc-gen-openapiv2,github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2,$(GRPC_GATEWAY_VERSION)))
$(eval $(call go-tool,staticcheck,honnef.co/go/tools/cmd/staticcheck,$(STATICCHECK_VERSION)))
$(eval $(call go-tool,nfpm,github.com/goreleaser/nfpm/v2/cmd/nfpm,$(NFPM_VERSION)))

##@ Everyday

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} \
	  /^##@/ {printf "\n%s\n", substr($$0, 5)} \
	  /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo

.PHONY: run
run: ## run sanzhid on the embedded default with a demo county (extra flags: ARGS=...)
	$(GO) run ./cmd/sanzhid --demo $(ARGS)

.PHONY: build
build: ## build bin/sanzhid and bin/sanzhi (--version names the commit they were built from)
	@# -buildvcs=true: the revision is recorded even where GOFLAGS turns it
	@# off; a release adds its version with VERSION=v1.2.3.
	$(GO) build -buildvcs=true -ldflags "-X main.version=$(VERSION)" -o $(BIN)/sanzhid ./cmd/sanzhid
	$(GO) build -buildvcs=true -ldflags "-X main.version=$(VERSION)" -o $(BIN)/sanzhi ./cmd/sanzhi

.PHONY: version-check
version-check: build ## check that the built binaries name the commit they were built from
	@rev=$$(git rev-parse --short=12 HEAD); \
	  for b in sanzhid sanzhi; do out=$$($(BIN)/$$b --version); echo "$$out"; \
	    case "$$out" in *"revision $$rev"*) ;; *) echo "$$b --version does not name $$rev"; exit 1;; esac; done

.PHONY: test
# RACE is how make test runs the race detector (see test's comments).
RACE := -race -gcflags='modernc.org/...=-d=checkptr=0'
# TRIM: without -trimpath the build cache keys this module's packages by
# the directory they are in, so a second checkout (CI's clean clone, a
# worktree) compiled and linked every package and test binary again,
# about two minutes of make test in CI (BENCHMARKS.md). With it a checkout
# reuses what another one compiled from the same sources. Test binaries
# then name files by import path in stack traces, which is all they lose.
TRIM := -trimpath

test: ## go test -race (needs PostgreSQL at SANZHI_TEST_POSTGRES)
	@# Templates, made once per run by the CLI without the race detector
	@# (seconds, not minutes), which every test binary copies
	@# (adapters/sqlite/sqlitetest, SANZHI_TEST_TEMPLATES): the seeded demo
	@# county, its audit log signed, and an empty migrated database.
	@# -gcflags: modernc.org/sqlite is C translated to Go, full of the
	@# unsafe pointer arithmetic that -race's pointer checks (checkptr)
	@# verify on every step; without them it runs about 1.7 times as fast
	@# and is still race-instrumented. (Compiling it without the race
	@# detector instead was faster still, but lost happens-before edges
	@# and reported races in otel that are not there.)
	@# Second pass, without -race, go test runs side by side:
	@#  - adapters/demo: sequential code (it seeds whole counties) whose
	@#    concurrency lives in the packages it calls, which the first pass
	@#    runs under -race; the detector only multiplied its CPU time;
	@#  - the pure packages tools/test-packages.sh names (audit,
	@#    scoring/rules): no goroutine, store or network in their code or
	@#    tests, so nothing in their test binaries can race;
	@#  - cmd/sanzhi likewise: the CLI translates flags into the app's
	@#    calls; its own goroutines (the import's workers, the webhook
	@#    receiver, the health poll) are in the tests run again with -race;
	@#  - the console's browser journeys (the work is Chromium's, which the
	@#    race detector does not see), two at a time, in one Chromium;
	@#  - the tests above the store on SQLite: the race pass runs them on
	@#    PostgreSQL only (SANZHI_TEST_ENGINES; storetest.EnginesEnv says
	@#    why every scenario still runs on both engines, once under -race).
	@# (Started beside the race pass instead, they made the whole take
	@# 497 s against 476 s after it: on 2 cores the race pass leaves little
	@# idle, and the contention cost more than that.)
	@# Packages longest first (tools/test-packages.sh), so that no long
	@# one runs alone at the end.
	@# -p 2 -parallel 4: with fsyncs in memory and no checkpoints among the
	@# tests the run is CPU-bound, and four race-instrumented binaries on 2
	@# cores spent 18% more CPU than two (BENCHMARKS.md).
	@# TMPDIR in memory (/dev/shm) where the machine has one: every test's
	@# SQLite files and their fsyncs (synchronous=FULL) live in t.TempDir,
	@# and durability on a disk is not what a test run checks.
	@start=$$(date +%s); \
	  if [ -d /dev/shm ] && [ -w /dev/shm ]; then tpl=$$(mktemp -d /dev/shm/sanzhi-test.XXXXXX); else tpl=$$(mktemp -d); fi && \
	  trap 'rm -rf "$$tpl"' EXIT && \
	  mkdir "$$tpl/demo" "$$tpl/migrated" "$$tpl/tmp" && export TMPDIR="$$tpl/tmp" && \
	  echo "==> templates: the demo county, an empty migrated database" && \
	  $(GO) build $(TRIM) -o "$$tpl/sanzhi" ./cmd/sanzhi && \
	  "$$tpl/sanzhi" demo seed --database "sqlite://$$tpl/demo/demo.db" >/dev/null && \
	  "$$tpl/sanzhi" migrate --database "sqlite://$$tpl/migrated/migrated.db" >/dev/null && \
	  race_pkgs=$$(bash tools/test-packages.sh race) && norace_pkgs=$$(bash tools/test-packages.sh norace) && \
	  engine_pkgs=$$(bash tools/test-packages.sh engines) && \
	  SANZHI_TEST_ENGINES=postgres SANZHI_TEST_TEMPLATES="$$tpl" $(GO) test $(TRIM) $(RACE) -count=1 -p 2 -parallel 4 -timeout 30m $$race_pkgs && \
	  echo "==> without -race: adapters/demo, cmd/sanzhi, the pure packages, the console's journeys, the tests above the store on SQLite; cmd/sanzhi's concurrent commands with it" && \
	  { SANZHI_TEST_TEMPLATES="$$tpl" $(GO) test $(TRIM) -count=1 -timeout 20m ./adapters/demo/ ./cmd/sanzhi/ $$norace_pkgs >"$$tpl/seq.out" 2>&1 & seq=$$!; \
	    SANZHI_TEST_ENGINES=sqlite SANZHI_TEST_TEMPLATES="$$tpl" $(GO) test $(TRIM) -count=1 -timeout 20m -skip 'Journey' $$engine_pkgs >"$$tpl/sqlite.out" 2>&1 & lite=$$!; \
	    SANZHI_TEST_TEMPLATES="$$tpl" $(GO) test $(TRIM) -count=1 -parallel 2 -timeout 20m -run 'Journey' ./adapters/console/ >"$$tpl/journeys.out" 2>&1 & jour=$$!; \
	    SANZHI_TEST_TEMPLATES="$$tpl" $(GO) test $(TRIM) $(RACE) -count=1 -timeout 20m \
	      -run '^(TestImportEvidence|TestImportRefusalsLocalised|TestWebhookListenVerifies|TestHealthNotServingThenServing)$$' \
	      ./cmd/sanzhi/ >"$$tpl/cli-race.out" 2>&1 & cli=$$!; \
	    ok=0; wait $$seq || ok=1; wait $$lite || ok=1; wait $$jour || ok=1; wait $$cli || ok=1; \
	    cat "$$tpl/seq.out" "$$tpl/sqlite.out" "$$tpl/journeys.out" "$$tpl/cli-race.out"; test $$ok = 0; } && \
	  echo "==> make test took $$(( $$(date +%s) - start )) s"

.PHONY: photos
photos: ## photograph the console's pages into docs/console: the browser journeys with SANZHI_PHOTOS=1 (chromium, SANZHI_TEST_POSTGRES)
	@# make test does not: photographs cost a second or more each, and their
	@# IDs and dates change every run (adapters/console/browser_test.go).
	SANZHI_PHOTOS=1 $(GO) test -count=1 -parallel 2 -run Journey ./adapters/console/

.PHONY: conformance
conformance: ## the storage conformance suite on any PostgreSQL-compatible DSN: make conformance DSN=postgres://… [RUN=Lending]
	@test -n "$(DSN)" || { echo "give the engine: make conformance DSN='postgres://user@host:port/db?sslmode=…' (docs/SCALE.md)"; exit 2; }
	@# A schema per test, migrated from nothing: no template databases, no
	@# CREATE DATABASE (pgtest.NewSchemaURL).
	SANZHI_TEST_PG_COMPAT='$(DSN)' $(GO) test -count=1 -timeout 30m -run '^TestConformanceCompat$$/$(RUN)' ./adapters/postgres/
.PHONY: backup-check
backup-check: build ## back up, drop, restore and verify a seeded PostgreSQL database (SANZHI_TEST_POSTGRES; psql, pg_dump)
	@GO=$(GO) SANZHI_BIN=$(BIN) bash tools/backup-restore-check.sh

.PHONY: bench
bench: ## run the benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

##@ Packages (packaging/, docs/OPERATIONS.md)

# The architectures and formats make package builds; the package check
# narrows them: make package PKG_ARCHES=amd64 PKG_FORMATS=deb.
PKG_ARCHES  ?= amd64 arm64 loong64
PKG_FORMATS ?= deb rpm
PKG_BUILD   := $(BUILD)/pkg
# A package version starts with a digit: v1.2.3 is 1.2.3; an unreleased
# build is 0.0.0~dev.<commit time>.<commit>, which sorts before any release
# and after the builds of earlier commits.
PKG_VERSION ?= $(if $(filter dev,$(VERSION)),0.0.0-dev.$(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S).$(shell git rev-parse --short=12 HEAD),$(patsubst v%,%,$(VERSION)))

.PHONY: package
package: $(STAMPS)/nfpm@$(NFPM_VERSION) ## .deb and .rpm for amd64, arm64, loong64 into dist/ (static binaries, VERSION stamped as by make build)
	@mkdir -p dist
	@for arch in $(PKG_ARCHES); do \
	  echo "==> $$arch: static sanzhid and sanzhi (CGO_ENABLED=0, version $(VERSION))"; \
	  for cmd in sanzhid sanzhi; do \
	    CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -buildvcs=true \
	      -ldflags "-s -w -X main.version=$(VERSION)" -o $(PKG_BUILD)/$$arch/$$cmd ./cmd/$$cmd; \
	  done; \
	  for fmt in $(PKG_FORMATS); do \
	    ARCH=$$arch PKG_VERSION='$(PKG_VERSION)' nfpm package --config packaging/nfpm.yaml --packager $$fmt --target dist/; \
	  done; \
	done

.PHONY: package-check
package-check: ## as root on Debian: install the amd64 .deb, run its sanzhid as the unit would until SERVING, purge it
	@bash tools/package-check.sh

##@ API contract (proto/)

.PHONY: proto
proto: tools protodeps ## regenerate Go, gateway and OpenAPI code from proto/
	@echo "==> buf generate"
	@find proto \( -name '*.pb.go' -o -name '*.pb.gw.go' \) -delete
	@rm -f $(OPENAPI_DIR)/*.json
	@if ! find proto -name '*.proto' | grep -q .; then echo "no .proto files under proto/: nothing to generate"; exit 0; fi; \
	  buf generate
	@# Required fields and enums from the buf.validate rules, and the
	@# OpenAPI 3 document (tools/openapi); it reads the Go code just made.
	@echo "==> tools/openapi"
	@$(GO) run ./tools/openapi -swagger $(OPENAPI_DIR)/sanzhi.swagger.json -openapi3 $(OPENAPI_DIR)/sanzhi.openapi3.json

.PHONY: proto-check
proto-check: proto ## fail if the committed generated code is not what `make proto` makes
	@changes=$$(git status --porcelain --untracked-files=all -- $(GENERATED_DIRS)); \
	if [ -n "$$changes" ]; then \
	  echo "proto-check: uncommitted changes under $(GENERATED_DIRS) after 'make proto':"; \
	  echo "the generated code is stale (run 'make proto' and commit it) or a .proto is uncommitted"; \
	  echo "$$changes"; \
	  git --no-pager diff --stat -- $(GENERATED_DIRS); \
	  git --no-pager diff -- $(GENERATED_DIRS) | head -200; \
	  exit 1; \
	fi; \
	echo "generated code is up to date"

.PHONY: breaking
breaking: tools protodeps ## buf breaking against main's fork point, or HEAD~1 on main (BREAKING_REF=... to choose)
	@BUF=buf PROTODEPS=$(PROTODEPS) BREAKING_REF='$(BREAKING_REF)' bash tools/breaking.sh

.PHONY: protodeps
protodeps: ## copy validate.proto from the Go module cache into .build/protodeps
	@dir=$$($(GO) mod download -json github.com/bufbuild/protovalidate@$(PROTOVALIDATE_VERSION) \
	        | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$$/\1/p'); \
	  test -n "$$dir" || { echo "go mod download github.com/bufbuild/protovalidate@$(PROTOVALIDATE_VERSION) failed"; exit 1; }; \
	  install -D -m 0644 "$$dir/proto/protovalidate/buf/validate/validate.proto" \
	          $(PROTODEPS)/buf/validate/validate.proto

# npm ci again only when the lock file changes. --ignore-scripts: no
# package here needs its install script (protobufjs's checks its version).
$(NODE_TOOLS)/node_modules/.installed: $(NODE_TOOLS)/package-lock.json
	@echo "==> npm ci ($(NODE_TOOLS))"
	@cd $(NODE_TOOLS) && $(NPM) ci --no-audit --no-fund --ignore-scripts
	@touch $@

.PHONY: openapi-lint
openapi-lint: $(NODE_TOOLS)/node_modules/.installed ## lint both OpenAPI documents with @redocly/cli (redocly.yaml); any error fails
	@REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	  $(NODE_TOOLS)/node_modules/.bin/redocly lint --config redocly.yaml \
	  $(OPENAPI_DIR)/sanzhi.swagger.json $(OPENAPI_DIR)/sanzhi.openapi3.json

##@ Release artefacts

.PHONY: bundle
bundle: tools protodeps $(NODE_TOOLS)/node_modules/.installed ## the proto bundle banks compile without Go: dist/sanzhi-proto-$(VERSION).tar.gz
	@BUF=buf VERSION=$(VERSION) PROTODEPS=$(PROTODEPS) DIST=$(DIST) PROTOVALIDATE_VERSION=$(PROTOVALIDATE_VERSION) \
	  GOOGLE=$(NODE_TOOLS)/node_modules/google-proto-files bash tools/bundle.sh

examples/node/node_modules/.installed: examples/node/package-lock.json
	@echo "==> npm ci (examples/node)"
	@cd examples/node && $(NPM) ci --no-audit --no-fund --ignore-scripts
	@touch $@

.PHONY: node-example
node-example: bundle examples/node/node_modules/.installed ## run the Node example client's bank journey against sanzhid --demo on loopback
	@VERSION=$(VERSION) DIST=$(DIST) GO=$(GO) bash tools/node-example.sh

##@ Quality

.PHONY: lint
lint: tools protodeps ## buf lint, gofmt, go vet, staticcheck
	@echo "==> buf lint"
	@if find proto -name '*.proto' | grep -q .; then buf lint; else echo "no .proto files: skipped"; fi
	@echo "==> gofmt -l"
	@out=$$(find . -name '*.go' -not -name '*.pb.go' -not -name '*.pb.gw.go' \
	          -not -path './.*' -not -path './bin/*' -not -path '*/testdata/*' -print0 \
	        | xargs -0 -r gofmt -l); \
	  if [ -n "$$out" ]; then echo "not gofmt'ed (run gofmt -w):"; echo "$$out"; exit 1; fi
	@echo "==> go vet"
	@$(GO) vet ./...
	@$(GO) vet -tags benchfloors ./...   # the bench build's floors
	@echo "==> staticcheck"
	@staticcheck ./...

.PHONY: ci
ci: ## what CI runs, in order: tools proto-check openapi-lint lint breaking version-check node-example backup-check test
	@$(MAKE) tools
	@$(MAKE) proto-check
	@$(MAKE) openapi-lint
	@$(MAKE) lint
	@$(MAKE) breaking
	@$(MAKE) version-check
	@$(MAKE) node-example
	@$(MAKE) backup-check
	@$(MAKE) test

##@ Housekeeping

.PHONY: tools
tools: $(TOOL_STAMPS) ## install the pinned tools into bin/ (only when missing or re-pinned)
	@:

.PHONY: versions
versions: ## print the pinned tool versions
	@echo "buf                     $(BUF_VERSION)"
	@echo "protoc-gen-go           $(PROTOC_GEN_GO_VERSION)"
	@echo "protoc-gen-go-grpc      $(PROTOC_GEN_GO_GRPC_VERSION)"
	@echo "protoc-gen-grpc-gateway $(GRPC_GATEWAY_VERSION)"
	@echo "protoc-gen-openapiv2    $(GRPC_GATEWAY_VERSION)"
	@echo "staticcheck             $(STATICCHECK_VERSION)"
	@echo "protovalidate (proto)   $(PROTOVALIDATE_VERSION)"
	@echo "nfpm                    $(NFPM_VERSION)"
	@echo "npm (tools/node, examples/node): see their package-lock.json"
	@sed -n 's/^ *"\(@redocly\/cli\|google-proto-files\|@grpc\/grpc-js\|@grpc\/proto-loader\|protobufjs\)": "\(.*\)".*/  \1 \2/p' \
	  $(NODE_TOOLS)/package.json examples/node/package.json

.PHONY: clean
clean: ## remove bin/, .build/, dist/ and the Node tools (generated code is committed and kept)
	rm -rf $(BIN) $(BUILD) $(DIST) $(NODE_TOOLS)/node_modules examples/node/node_modules
