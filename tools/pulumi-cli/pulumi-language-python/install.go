package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
)

// InstallDependencies serves `pulumi install`: the toolchain creates the virtualenv
// (when Pulumi.yaml names one) and installs requirements.txt. Its output streams to
// the CLI as written, through a pseudo-terminal when the CLI runs in one (pip then
// draws its progress bars), with no limit on the length of a line.
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	info := req.GetInfo()
	if info == nil {
		info = &pulumirpc.ProgramInfo{RootDirectory: req.GetDirectory(), ProgramDirectory: req.GetDirectory()}
	}
	opts, err := parseOptions(info)
	if err != nil {
		return err
	}
	resolveFor := toolchain.ResolveToolchain
	if req.GetIsPlugin() {
		resolveFor = func(o toolchain.PythonOptions) (toolchain.Toolchain, error) {
			return pluginToolchain(server.Context(), o)
		}
	}
	tc, err := resolveFor(opts)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	_, _ = stdout.Write([]byte("Installing dependencies...\n\n"))
	if err := tc.InstallDependencies(server.Context(), info.GetProgramDirectory(),
		req.GetUseLanguageVersionTools(), true, stdout, stderr); err != nil {
		return err
	}
	_, _ = stdout.Write([]byte("Finished installing dependencies\n\n"))
	return closer.Close()
}
