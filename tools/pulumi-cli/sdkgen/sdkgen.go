// Package sdkgen answers GeneratePackage, the call behind `pulumi package gen-sdk`, for
// the language hosts built here: Pulumi's own hosts are not served by the Go module
// proxy the project's machines reach (403 for every version), but the code generators
// they call are in github.com/pulumi/pulumi/pkg/v3 (codegen/nodejs, codegen/go,
// codegen/python), the module the CLI is built from. Generate does what those hosts
// do: bind the schema (references to other packages resolved through the CLI's loader),
// run the language's generator, and write its files into the requested directory.
package sdkgen

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/pkg/v3/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Generate writes the SDK of req's schema in language ("nodejs", "go" or "python") to
// req's directory. Schema errors come back as diagnostics, as with Pulumi's hosts.
func Generate(req *pulumirpc.GeneratePackageRequest, language string) (*pulumirpc.GeneratePackageResponse, error) {
	loader, err := schema.NewLoaderClient(req.GetLoaderTarget())
	if err != nil {
		return nil, fmt.Errorf("connecting to the CLI's schema loader: %w", err)
	}
	defer loader.Close()
	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.GetSchema()), &spec); err != nil {
		return nil, fmt.Errorf("reading the package schema: %w", err)
	}
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return nil, err
	}
	response := &pulumirpc.GeneratePackageResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}
	if diags.HasErrors() {
		return response, nil
	}
	tool := "pulumi-language-" + language
	var files map[string][]byte
	switch language {
	case "nodejs":
		files, err = nodejs.GeneratePackage(tool, pkg, req.GetExtraFiles(), req.GetLocalDependencies(),
			req.GetLocal(), loader)
	case "go":
		files, err = gogen.GeneratePackage(tool, pkg, req.GetLocalDependencies())
		for name, data := range req.GetExtraFiles() {
			if err == nil {
				files[name] = data
			}
		}
	case "python":
		files, err = python.GeneratePackage(tool, pkg, req.GetExtraFiles(), loader)
	default:
		return nil, fmt.Errorf("no SDK generator for the language %q", language)
	}
	if err != nil {
		return nil, fmt.Errorf("generating the %s SDK of %s: %w", language, pkg.Name, err)
	}
	for name, data := range files {
		path := filepath.Join(req.GetDirectory(), name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil { //nolint:gosec // sources, not secrets
			return nil, err
		}
	}
	return response, nil
}
