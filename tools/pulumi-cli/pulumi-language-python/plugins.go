package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
)

// RunPlugin runs a plugin written in Python: a policy pack (`pulumi up --policy-pack
// DIR` with a PulumiPolicy.yaml of runtime python) or a source provider plugin. A
// directory with __main__.py runs as `python DIR args...`; a buildable package
// without one runs as `python -m pulumi.run.plugin <project name> args...`. The
// plugin's output streams to the engine, which reads its port from it.
func (h *host) RunPlugin(
	req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	if req.GetAttachDebugger() {
		return errors.New(debuggerRefused)
	}
	opts, err := parseOptions(req.GetInfo())
	if err != nil {
		return err
	}
	tc, err := pluginToolchain(server.Context(), opts)
	if err != nil {
		return err
	}
	if err := tc.ValidateVenv(server.Context()); err != nil {
		return err
	}
	cmd, err := pluginCommand(server, tc, opts, req)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()
	prepare(cmd)
	cmd.Dir = req.GetPwd()
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, req.GetEnv()...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := h.children.run(cmd); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return server.Send(&pulumirpc.RunPluginResponse{
				Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(exit.ExitCode())}, //nolint:gosec
			})
		}
		return fmt.Errorf("could not run the Python plugin in %s: %w", req.GetInfo().GetProgramDirectory(), err)
	}
	return closer.Close()
}

func pluginCommand(
	server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse], tc toolchain.Toolchain,
	opts toolchain.PythonOptions, req *pulumirpc.RunPluginRequest,
) (*exec.Cmd, error) {
	dir := req.GetInfo().GetProgramDirectory()
	if _, err := os.Stat(filepath.Join(opts.Root, "__main__.py")); err == nil {
		return tc.Command(server.Context(), append([]string{"-u", dir}, req.GetArgs()...)...)
	}
	buildable, err := toolchain.IsBuildablePackage(opts.Root)
	if err != nil || !buildable {
		return nil, fmt.Errorf("the Python plugin in %s has neither __main__.py nor a buildable pyproject.toml",
			opts.Root)
	}
	project, err := toolchain.LoadPyproject(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("reading the plugin's pyproject.toml: %w", err)
	}
	if strings.TrimSpace(project.Project.Name) == "" {
		return nil, fmt.Errorf("the plugin's pyproject.toml in %s names no project", opts.Root)
	}
	args := append([]string{"-u", "-m", "pulumi.run.plugin", project.Project.Name}, req.GetArgs()...)
	return tc.Command(server.Context(), args...)
}

// pluginToolchain resolves a plugin's toolchain. As with Pulumi's host, a plugin never
// runs in the ambient Python: when pip would be used (named, or picked for want of a
// uv.lock or poetry.lock) with no virtualenv named, it is `venv` beside the plugin's
// PulumiPolicy.yaml / PulumiPlugin.yaml.
func pluginToolchain(ctx context.Context, opts toolchain.PythonOptions) (toolchain.Toolchain, error) {
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil || opts.Virtualenv != "" || (opts.Toolchain != toolchain.Pip && opts.Toolchain != toolchain.Auto) {
		return tc, err
	}
	if venv, err := tc.VirtualEnvPath(ctx); err != nil || venv != "" {
		return tc, nil // uv or poetry: their own environment
	}
	opts.Virtualenv = "venv"
	return toolchain.ResolveToolchain(opts)
}
