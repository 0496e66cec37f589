// pulumi-language-python: the Python language host the Pulumi CLI starts to run a
// Python program, built here from Go modules.
//
// Pulumi's own host lives in the module
// github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3, which the Go
// module proxy reachable from the project's machines does not serve (403 for every
// version). This host does the same job with the same parts the official one uses:
// the Python toolchain resolution of github.com/pulumi/pulumi/sdk/v3/python/toolchain
// (pip, uv or poetry; the `virtualenv` runtime option; PULUMI_PYTHON_CMD) and the
// official `pulumi-language-python-exec` shim shipped in the sdk/v3 module, which
// configures the Python SDK and runs the program. It implements the calls `pulumi up`,
// `preview`, `refresh`, `destroy` and `pulumi install` make; the rest answer
// Unimplemented, which the CLI handles.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The exec shim sits next to this binary (as with Pulumi's own host).
const execShim = "pulumi-language-python-exec"

// Exit status the shim uses after it has shown the user an actionable message.
const shownToUser = 32

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "--version" || os.Args[1] == "-version") {
		fmt.Println(version.Version)
		return
	}
	self, err := os.Executable()
	if err != nil {
		cmdutil.Exit(fmt.Errorf("locating this executable: %w", err))
	}
	shim := filepath.Join(filepath.Dir(self), execShim)
	if _, err := os.Stat(shim); err != nil {
		cmdutil.Exit(fmt.Errorf("missing %s next to the language host: %w", execShim, err))
	}
	// The engine passes its own address as the last argument.
	engine := ""
	if len(os.Args) > 1 {
		engine = os.Args[len(os.Args)-1]
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, &host{shim: shim, engine: engine})
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("starting the language host's gRPC server: %w", err))
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host stopped serving: %w", err))
	}
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	shim   string
	engine string
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// GetRequiredPlugins answers "none known in advance": the engine then loads each
// provider plugin when the program first registers one of its resources.
func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

// resolveToolchain reads the runtime options of Pulumi.yaml the way Pulumi's host does.
func resolveToolchain(info *pulumirpc.ProgramInfo) (toolchain.Toolchain, error) {
	opts := toolchain.PythonOptions{
		Root:       info.GetRootDirectory(),
		ProgramDir: info.GetProgramDirectory(),
		Toolchain:  toolchain.Auto,
	}
	if o := info.GetOptions(); o != nil {
		m := o.AsMap()
		if v, ok := m["virtualenv"].(string); ok {
			opts.Virtualenv = v
		}
		if v, ok := m["toolchain"].(string); ok {
			switch v {
			case "pip":
				opts.Toolchain = toolchain.Pip
			case "uv":
				opts.Toolchain = toolchain.Uv
			case "poetry":
				opts.Toolchain = toolchain.Poetry
			default:
				return nil, fmt.Errorf("unknown Python toolchain %q in Pulumi.yaml (pip, uv or poetry)", v)
			}
		}
	}
	return toolchain.ResolveToolchain(opts)
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	if info == nil {
		info = &pulumirpc.ProgramInfo{
			RootDirectory: req.GetPwd(), ProgramDirectory: req.GetPwd(), EntryPoint: req.GetProgram(),
		}
	}
	tc, err := resolveToolchain(info)
	if err != nil {
		return nil, err
	}
	args := []string{"-u", h.shim}
	add := func(flag, value string) {
		if value != "" {
			args = append(args, "--"+flag, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engine)
	add("project", req.GetProject())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("organization", req.GetOrganization())
	add("root_directory", info.GetRootDirectory())
	program := info.GetEntryPoint()
	if program == "" {
		program = "."
	}
	if dir := info.GetProgramDirectory(); dir != "" && !filepath.IsAbs(program) {
		program = filepath.Join(dir, program)
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, fmt.Errorf("serialising the stack configuration: %w", err)
	}
	secretKeys, err := json.Marshal(req.GetConfigSecretKeys())
	if err != nil {
		return nil, fmt.Errorf("serialising the secret configuration keys: %w", err)
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))
	cmd.Dir = req.GetPwd()
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			if exit.ExitCode() == shownToUser {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exit.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the Python program: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// InstallDependencies serves `pulumi install`: the toolchain creates the virtualenv
// (when Pulumi.yaml names one) and installs requirements.txt, streaming pip's output.
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	info := req.GetInfo()
	if info == nil {
		info = &pulumirpc.ProgramInfo{RootDirectory: req.GetDirectory(), ProgramDirectory: req.GetDirectory()}
	}
	tc, err := resolveToolchain(info)
	if err != nil {
		return err
	}
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	done := make(chan struct{}, 2)
	forward := func(r io.Reader, wrap func([]byte) *pulumirpc.InstallDependenciesResponse) {
		defer func() { done <- struct{}{} }()
		scanner := bufio.NewScanner(r)
		for scanner.Scan() {
			_ = server.Send(wrap(append(scanner.Bytes(), '\n')))
		}
	}
	go forward(outR, func(b []byte) *pulumirpc.InstallDependenciesResponse {
		return &pulumirpc.InstallDependenciesResponse{Stdout: b}
	})
	go forward(errR, func(b []byte) *pulumirpc.InstallDependenciesResponse {
		return &pulumirpc.InstallDependenciesResponse{Stderr: b}
	})
	err = tc.InstallDependencies(server.Context(), info.GetProgramDirectory(),
		req.GetUseLanguageVersionTools(), true, outW, errW)
	_ = outW.Close()
	_ = errW.Close()
	<-done
	<-done
	return err
}
