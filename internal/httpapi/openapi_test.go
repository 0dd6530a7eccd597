package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// mustRoutes builds the router without its dependencies: walking it needs
// none.
func mustRoutes(t *testing.T) chi.Router {
	t.Helper()
	reg := prometheus.NewRegistry()
	a := &api{d: Deps{Registry: reg}, metrics: newMetrics(reg)}
	r, err := a.router(a.routes())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type openAPIDoc struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

func mustOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	doc := mustOpenAPI(t)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi version %q, want 3.1.0", doc.OpenAPI)
	}
	var routed []string
	err := chi.Walk(mustRoutes(t), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routed = append(routed, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "post", "put", "patch", "delete":
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(routed)
	slices.Sort(documented)
	for _, r := range routed {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routed, d) {
			t.Errorf("openapi.json documents %s, which is not routed", d)
		}
	}
	if len(routed) < 20 {
		t.Errorf("only %d routes walked: %v", len(routed), routed)
	}
}

// TestOpenAPIOperations checks every operation says what it answers and that
// every $ref resolves.
func TestOpenAPIOperations(t *testing.T) {
	t.Parallel()
	var full map[string]any
	if err := json.Unmarshal(OpenAPI(), &full); err != nil {
		t.Fatal(err)
	}
	schemas := full["components"].(map[string]any)["schemas"].(map[string]any)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				name := strings.TrimPrefix(ref, "#/components/schemas/")
				if _, ok := schemas[name]; !ok {
					t.Errorf("%s: unresolved $ref %s", path, ref)
				}
			}
			for k, x := range v {
				walk(path+"/"+k, x)
			}
		case []any:
			for _, x := range v {
				walk(path, x)
			}
		}
	}
	walk("", full)
	if lic, _ := full["info"].(map[string]any)["license"].(map[string]any); lic["identifier"] != "EUPL-1.2" {
		t.Errorf("info.license %v, want EUPL-1.2", lic)
	}
	opIDs := map[string]string{}
	for path, ops := range full["paths"].(map[string]any) {
		for method, op := range ops.(map[string]any) {
			o := op.(map[string]any)
			id, _ := o["operationId"].(string)
			if id == "" {
				t.Errorf("%s %s: no operationId", method, path)
			} else if other, dup := opIDs[id]; dup {
				t.Errorf("%s %s: operationId %s is also %s's", method, path, id, other)
			}
			opIDs[id] = method + " " + path
			resp, ok := o["responses"].(map[string]any)
			if !ok || len(resp) == 0 {
				t.Errorf("%s %s: no responses", method, path)
			}
			if method == "post" && strings.HasPrefix(path, "/api/") {
				hasKey := false
				for _, p := range o["parameters"].([]any) {
					hasKey = hasKey || p.(map[string]any)["name"] == idempotencyHeader
				}
				if !hasKey {
					t.Errorf("POST %s: Idempotency-Key not documented", path)
				}
			}
			if strings.Contains(path, "{") {
				params, _ := o["parameters"].([]any)
				for _, seg := range strings.Split(path, "/") {
					if !strings.HasPrefix(seg, "{") {
						continue
					}
					name := strings.Trim(seg, "{}")
					found := false
					for _, p := range params {
						pm := p.(map[string]any)
						found = found || (pm["name"] == name && pm["in"] == "path")
					}
					if !found {
						t.Errorf("%s %s: path parameter %s not documented", method, path, name)
					}
				}
			}
		}
	}
}
