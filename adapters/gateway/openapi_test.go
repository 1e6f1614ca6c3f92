package gateway_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/gateway"
)

type schema struct {
	Ref        string             `json:"$ref"`
	Type       string             `json:"type"`
	Enum       []string           `json:"enum"`
	Items      *schema            `json:"items"`
	Required   []string           `json:"required"`
	Properties map[string]*schema `json:"properties"`
}

type param struct {
	Name     string   `json:"name"`
	In       string   `json:"in"`
	Required bool     `json:"required"`
	Enum     []string `json:"enum"`
	Schema   *schema  `json:"schema"`
}

type operation struct {
	OperationID string                `json:"operationId"`
	Parameters  []param               `json:"parameters"`
	Responses   map[string]any        `json:"responses"`
	Security    []map[string][]string `json:"security"`
}

type swagger struct {
	Info struct {
		Title   string `json:"title"`
		Version string `json:"version"`
	} `json:"info"`
	SecurityDefinitions map[string]struct {
		Type string `json:"type"`
		In   string `json:"in"`
		Name string `json:"name"`
	} `json:"securityDefinitions"`
	Security    []map[string][]string           `json:"security"`
	Paths       map[string]map[string]operation `json:"paths"`
	Definitions map[string]*schema              `json:"definitions"`
}

func loadSwagger(t *testing.T) swagger {
	t.Helper()
	var doc swagger
	require.NoError(t, json.Unmarshal(gateway.OpenAPI(), &doc))
	return doc
}

func (d swagger) op(t *testing.T, path, method string) operation {
	t.Helper()
	op, ok := d.Paths[path][method]
	require.True(t, ok, "no %s %s in the OpenAPI document", method, path)
	return op
}

func (d swagger) body(t *testing.T, op operation) *schema {
	t.Helper()
	for _, p := range op.Parameters {
		if p.In == "body" {
			require.NotNil(t, p.Schema)
			s := d.Definitions[strings.TrimPrefix(p.Schema.Ref, "#/definitions/")]
			require.NotNil(t, s, "body of %s: %s", op.OperationID, p.Schema.Ref)
			return s
		}
	}
	t.Fatalf("%s has no body", op.OperationID)
	return nil
}

func (op operation) query(t *testing.T, name string) param {
	t.Helper()
	for _, p := range op.Parameters {
		if p.In == "query" && p.Name == name {
			return p
		}
	}
	t.Fatalf("%s has no query parameter %s", op.OperationID, name)
	return param{}
}

// TestOpenAPIDocument: the served document names itself and its
// authentication, has one path per route with a parameter per name
// segment, and says which fields a request needs and which values they
// take (from the buf.validate rules, by tools/openapi).
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	doc := loadSwagger(t)
	assert.Equal(t, "sanzhi API", doc.Info.Title)
	assert.Equal(t, "v1", doc.Info.Version)
	bearer := doc.SecurityDefinitions["BearerAuth"]
	assert.Equal(t, "apiKey", bearer.Type)
	assert.Equal(t, "header", bearer.In)
	assert.Equal(t, "Authorization", bearer.Name)
	assert.Equal(t, []map[string][]string{{"BearerAuth": {}}}, doc.Security, "every operation needs the key (or a certificate)")

	ops := 0
	for path, item := range doc.Paths {
		assert.NotContains(t, path, "_1}", "numbered duplicates of a collapsed template")
		for _, bad := range []string{"{name}", "{parent}", "ie}"} {
			assert.NotContains(t, path, bad, "a collapsed or mis-singularised parameter")
		}
		for method, op := range item {
			ops++
			assert.Nil(t, op.Security, "%s %s overrides the document's security", method, path)
			for _, code := range []string{"200", "400", "401", "403", "404", "default"} {
				assert.Contains(t, op.Responses, code, "%s %s", method, path)
			}
		}
	}
	assert.Greater(t, ops, 60)

	// The bank journey's requests.
	grant := doc.body(t, doc.op(t, "/v1/villages/{village}/households/{household}/consents", "post"))
	assert.ElementsMatch(t, []string{"authorisationHash", "bank", "channel", "purposes"}, grant.Required)
	assert.Equal(t, []string{"app", "counter", "paper"}, grant.Properties["channel"].Enum)
	assert.Equal(t, []string{"assessment", "post_loan"}, grant.Properties["purposes"].Items.Enum)

	lookup := doc.op(t, "/v1/banks/{bank}/products/{product}/creditLines:lookup", "get")
	purpose := lookup.query(t, "purpose")
	assert.True(t, purpose.Required)
	assert.Equal(t, []string{"assessment", "post_loan"}, purpose.Enum)
	assert.True(t, lookup.query(t, "household").Required)

	list := doc.op(t, "/v1/banks/{bank}/products/{product}/creditLines", "get")
	status := list.query(t, "status")
	assert.False(t, status.Required, "no status lists every line")
	assert.Equal(t, []string{"active", "frozen", "expired", "closed"}, status.Enum, "the empty value is left out")
	assert.False(t, list.query(t, "pageToken").Required)

	draw := doc.body(t, doc.op(t, "/v1/banks/{bank}/products/{product}/creditLines/{creditLine}:drawdown", "post"))
	assert.ElementsMatch(t, []string{"amount", "transactionId", "use"}, draw.Required)
	assert.Equal(t, []string{"agriculture", "livestock", "business", "consumption", "education", "medical"}, draw.Properties["use"].Enum)

	resolve := doc.body(t, doc.op(t, "/v1/banks/{bank}/products/{product}/reviews/{review}:resolve", "post"))
	assert.Equal(t, []string{"uphold", "override"}, resolve.Properties["outcome"].Enum)
	assert.NotContains(t, resolve.Required, "limit", "a limit only for an override")

	// A message inside a body: the household's facts.
	facts := doc.Definitions["HouseholdFacts"]
	require.NotNil(t, facts)
	assert.Contains(t, facts.Required, "asOfDate")

	// Responses' values.
	line := doc.Definitions["CreditLine"]
	require.NotNil(t, line)
	assert.Equal(t, []string{"active", "frozen", "expired", "closed"}, line.Properties["status"].Enum)
	assert.Equal(t, []string{"app", "counter", "paper"}, doc.Definitions["Consent"].Properties["channel"].Enum)
	assert.Equal(t, []string{"open", "upheld", "overridden"}, doc.Definitions["Review"].Properties["state"].Enum)
}

// TestOpenAPI3Document: the 3.0 conversion has the same routes, and
// declares the key as an HTTP bearer scheme.
func TestOpenAPI3Document(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI    string                    `json:"openapi"`
		Paths      map[string]map[string]any `json:"paths"`
		Components struct {
			SecuritySchemes map[string]struct {
				Type   string `json:"type"`
				Scheme string `json:"scheme"`
			} `json:"securitySchemes"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(gateway.OpenAPI3(), &doc))
	assert.Equal(t, "3.0.3", doc.OpenAPI)
	assert.Equal(t, "http", doc.Components.SecuritySchemes["BearerAuth"].Type)
	assert.Equal(t, "bearer", doc.Components.SecuritySchemes["BearerAuth"].Scheme)
	v2 := loadSwagger(t)
	assert.Len(t, doc.Paths, len(v2.Paths))
	for p := range v2.Paths {
		assert.Contains(t, doc.Paths, p)
	}
}
