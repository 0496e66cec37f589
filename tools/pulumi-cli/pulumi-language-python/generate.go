package main

import (
	"context"

	"github.com/pulumi-batchip/pulumi-batchip/tools/pulumi-cli/sdkgen"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// GeneratePackage serves `pulumi package gen-sdk --language python`: Pulumi's Python
// code generator (github.com/pulumi/pulumi/pkg/v3/codegen/python), see sdkgen.
func (h *host) GeneratePackage(
	_ context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	return sdkgen.Generate(req, "python")
}
