//go:build tools

// Package tools pins the Pulumi CLI's module (github.com/pulumi/pulumi/pkg/v3) at the
// version scripts/pulumi-cli.sh builds, so `go build .../cmd/pulumi` resolves here.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
