// Package minihost holds what the Go and Node.js language hosts built here share:
// start-up (the gRPC server, the port on stdout), the engine's health check, and
// running the program's process with the engine's settings.
//
// Pulumi's own pulumi-language-go and pulumi-language-nodejs are modules the Go module
// proxy reachable from the project's machines does not serve (403 for every version),
// as with pulumi-language-python. These hosts do what a user of a generated SDK needs:
// `pulumi package gen-sdk` (GeneratePackage, see sdkgen) and `pulumi preview/up/
// refresh/destroy` of a program (Run). Everything else answers Unimplemented (`pulumi
// new`, `convert`, `import` code generation, `package add`, `install`, the debugger).
package minihost

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi-batchip/pulumi-batchip/tools/pulumi-cli/sdkgen"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// ExitLoggedError is the exit status of a program that has already shown its error
// (the SDKs' constant.ExitStatusLoggedError): the engine then adds nothing.
const ExitLoggedError = 32

// How long a program has to stop after SIGINT before it is killed.
const grace = 10 * time.Second

// How often the engine is asked whether it is alive (as pulumi-language-python here).
const engineCheck = 10 * time.Second

// Base is embedded by each host: the calls every host answers the same way.
type Base struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	Name     string // pulumi-language-go, pulumi-language-nodejs
	Language string // what `pulumi package gen-sdk --language` names: go, nodejs
	Runtime  string // how its messages name it: Go, Node.js

	mu       sync.Mutex
	engine   string
	watching bool
	running  map[*exec.Cmd]struct{}
	stop     chan bool
	stopOnce sync.Once
}

// GeneratePackage serves `pulumi package gen-sdk --language <Language>`.
func (b *Base) GeneratePackage(
	_ context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	return sdkgen.Generate(req, b.Language)
}

// ProgramDir is the directory of a Run's program (else the working directory), or
// the answer to give when the run asks for a debugger, which these hosts do not attach.
func (b *Base) ProgramDir(req *pulumirpc.RunRequest) (string, *pulumirpc.RunResponse) {
	if req.GetAttachDebugger() {
		return "", &pulumirpc.RunResponse{
			Error: "--attach-debugger is not supported by this " + b.Runtime + " language host",
		}
	}
	if dir := req.GetInfo().GetProgramDirectory(); dir != "" {
		return dir, nil
	}
	return req.GetPwd(), nil
}

func (b *Base) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// Handshake is the first call of engines that start the host without arguments.
func (b *Base) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	b.watchEngine(req.GetEngineAddress())
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// GetRequiredPackages reports no packages: the provider plugins a program uses are
// found on PATH or among the installed plugins when it registers its resources.
func (b *Base) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// GetRequiredPlugins is the same answer for older engines.
func (b *Base) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

// Cancel asks every running program to stop (SIGINT; SIGKILL after the grace period).
func (b *Base) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	b.stopAll()
	return &emptypb.Empty{}, nil
}

func (b *Base) Engine() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.engine
}

func (b *Base) watchEngine(address string) {
	b.mu.Lock()
	b.engine = address
	start := !b.watching && address != ""
	b.watching = b.watching || start
	b.mu.Unlock()
	if !start {
		return
	}
	ctx, gone := context.WithCancel(context.Background())
	if err := rpcutil.Healthcheck(ctx, address, engineCheck, gone); err != nil {
		cmdutil.Exit(fmt.Errorf("could not start the engine health check: %w", err))
	}
	go func() {
		<-ctx.Done()
		b.shutdown("the Pulumi engine at " + address + " no longer answers")
	}()
}

func (b *Base) stopAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for cmd := range b.running {
		_ = cmd.Process.Signal(os.Interrupt)
		proc := cmd.Process
		time.AfterFunc(grace, func() { _ = proc.Kill() })
	}
}

func (b *Base) shutdown(why string) {
	b.stopOnce.Do(func() {
		b.stopAll()
		if why != "" {
			fmt.Fprintf(os.Stderr, "%s: stopping: %s\n", b.Name, why)
		}
		close(b.stop)
		time.AfterFunc(grace+5*time.Second, func() { os.Exit(1) })
	})
}

// RunProgram runs cmd (the program, its output the host's) with the engine's settings
// in env, and turns its exit into the engine's answer: a program that exits
// ExitLoggedError has shown its error already (Bail).
func (b *Base) RunProgram(cmd *exec.Cmd, env []string) (*pulumirpc.RunResponse, error) {
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = grace
	b.mu.Lock()
	if err := cmd.Start(); err != nil {
		b.mu.Unlock()
		return nil, err
	}
	b.running[cmd] = struct{}{}
	b.mu.Unlock()
	err := cmd.Wait()
	b.mu.Lock()
	delete(b.running, cmd)
	b.mu.Unlock()
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exit) && exit.ExitCode() == ExitLoggedError:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exit):
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("the program exited with status %d", exit.ExitCode())}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("running the program: %v", err)}, nil
	}
}

// Serve parses the engine's arguments, serves host until the engine closes it, and
// prints the port on stdout (how the engine finds a plugin).
func Serve(host pulumirpc.LanguageRuntimeServer, base *Base) {
	signal.Ignore(syscall.SIGPIPE)
	if len(os.Args) > 1 && (os.Args[1] == "--version" || os.Args[1] == "-version") {
		fmt.Println(version.Version)
		return
	}
	// Flags Pulumi's hosts take; these hosts read the options from each request.
	flag.String("tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint (ignored)")
	flag.String("root", "", "[obsolete] project root path")
	flag.String("binary", "", "[obsolete] the Go program's binary (use the runtime option)")
	flag.String("buildTarget", "", "[obsolete] (ignored)")
	flag.Bool("typescript", true, "[obsolete] (use the runtime option)")
	flag.String("tsconfig", "", "[obsolete] (ignored)")
	flag.String("nodeargs", "", "[obsolete] (ignored)")
	flag.String("packagemanager", "", "[obsolete] (ignored)")
	flag.Parse()
	base.running = map[*exec.Cmd]struct{}{}
	base.stop = make(chan bool)
	if args := flag.Args(); len(args) > 0 {
		base.watchEngine(args[0])
	}
	interrupted, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stopSignals()
	go func() {
		<-interrupted.Done()
		base.shutdown("")
	}()
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: base.stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
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

// ConfigEnv is the engine's configuration as the SDKs read it: PULUMI_CONFIG (a JSON
// object) and PULUMI_CONFIG_SECRET_KEYS (a JSON array).
func ConfigEnv(req *pulumirpc.RunRequest) ([]string, error) {
	var env []string
	if config := req.GetConfig(); len(config) > 0 {
		data, err := jsonString(config)
		if err != nil {
			return nil, err
		}
		env = append(env, "PULUMI_CONFIG="+data)
	}
	if keys := req.GetConfigSecretKeys(); len(keys) > 0 {
		data, err := jsonString(keys)
		if err != nil {
			return nil, err
		}
		env = append(env, "PULUMI_CONFIG_SECRET_KEYS="+data)
	}
	return env, nil
}
