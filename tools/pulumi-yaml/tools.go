//go:build tools

// Package tools pins the Pulumi YAML language host's module (github.com/pulumi/pulumi-yaml)
// at the version scripts/pulumi-cli.sh builds, so `go build .../cmd/pulumi-language-yaml`
// resolves here. A module of its own, apart from tools/pulumi-cli: its requirements
// (an older github.com/pulumi/pulumi/pkg/v3 among them) must not move the CLI's pins.
package tools

import _ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
