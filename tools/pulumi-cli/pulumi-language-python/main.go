// pulumi-language-python: the Python language host the Pulumi CLI starts to run a
// Python program, built here from Go modules.
//
// Pulumi's own host lives in the module
// github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3, which the Go
// module proxy reachable from the project's machines does not serve (403 for every
// version). This host is written to behave like it for everything a Python-program
// user does, on the same parts it uses: the Python toolchain code of
// github.com/pulumi/pulumi/sdk/v3/python/toolchain (pip, uv or poetry, virtualenvs),
// the official `pulumi-language-python-exec` shim shipped in the sdk/v3 module, and the
// sdk's rpcutil helpers (health checks, streams with a pseudo-terminal). What it does
// not do is listed in unsupported.go and in docs/design.md.
//
// The files: main.go (start-up and lifetime), options.go (Pulumi.yaml runtime options),
// run.go (Run and the typechecker), packages.go (venv creation, reported plugins,
// dependencies, About), plugins.go (RunPlugin: policy packs and source plugins),
// install.go (pulumi install), children.go (the processes we start and how they stop).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The exec shim sits next to this binary (as with Pulumi's own host).
const execShim = "pulumi-language-python-exec"

// Exit status the shim uses after it has shown the user an actionable message.
const shownToUser = 32

// How often the engine is asked whether it is alive. Pulumi's own host waits five
// minutes; after a `kill -9` of `pulumi` that leaves the host and the program running
// that long, so ours asks every 10 s. BATCHIP_ENGINE_CHECK_SECONDS overrides it
// (the dynamic provider's watch in pulumi_batchip reads the same variable).
const defaultEngineCheck = 10 * time.Second

func engineCheckPeriod() time.Duration {
	// Only finite values up to an hour: larger ones overflow a Duration into a negative
	// period, and the health check would then spin.
	if v := os.Getenv("BATCHIP_ENGINE_CHECK_SECONDS"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 && s <= 3600 {
			return time.Duration(s * float64(time.Second))
		}
	}
	return defaultEngineCheck
}

func main() {
	// Once `pulumi` is gone our stdout and stderr are pipes nobody reads: a write to them
	// must fail, not kill the host before it has stopped what it started.
	signal.Ignore(syscall.SIGPIPE)
	if len(os.Args) > 1 && (os.Args[1] == "--version" || os.Args[1] == "-version") {
		fmt.Println(version.Version)
		return
	}
	// Flags older engines pass; the options now come with each request (ProgramInfo).
	flag.String("tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint (ignored)")
	flag.String("virtualenv", "", "[obsolete] virtual environment path")
	flag.String("root", "", "[obsolete] project root path")
	flag.String("typechecker", "", "[obsolete] typechecker")
	flag.String("toolchain", "", "[obsolete] toolchain")
	executor := flag.String("use-executor", "", "run programs with this executor instead of the shim beside this binary")
	flag.Parse()

	shim := *executor
	if shim == "" {
		self, err := os.Executable()
		if err != nil {
			cmdutil.Exit(fmt.Errorf("locating this executable: %w", err))
		}
		shim = filepath.Join(filepath.Dir(self), execShim)
	}
	if _, err := os.Stat(shim); err != nil {
		cmdutil.Exit(fmt.Errorf("missing %s next to the language host: %w", execShim, err))
	}

	h := newHost(shim)
	// The engine passes its own address as the first positional argument; a host
	// started by hand (debugging) learns it from Handshake instead.
	if args := flag.Args(); len(args) > 0 {
		h.watchEngine(args[0])
	}
	// SIGINT to the host (not a Ctrl-C: the engine starts plugins in process groups of
	// their own) stops what it runs the way Cancel does, then the server.
	interrupted, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stopSignals()
	go func() {
		<-interrupted.Done()
		h.shutdown("") // how the engine closes every plugin: nothing to tell the user
	}()

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: h.stopServing,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
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
	shim     string
	children *children

	mu          sync.Mutex
	engine      string
	watching    bool
	stopServing chan bool
	stopOnce    sync.Once
}

func newHost(shim string) *host {
	return &host{shim: shim, children: newChildren(), stopServing: make(chan bool)}
}

func (h *host) engineAddress() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engine
}

// watchEngine remembers the engine's address and, once, starts asking it whether it
// is alive: when it no longer answers (a `kill -9` of `pulumi`), the host stops.
func (h *host) watchEngine(address string) {
	h.mu.Lock()
	h.engine = address
	start := !h.watching && address != ""
	h.watching = h.watching || start
	h.mu.Unlock()
	if !start {
		return
	}
	ctx, gone := context.WithCancel(context.Background())
	if err := rpcutil.Healthcheck(ctx, address, engineCheckPeriod(), gone); err != nil {
		cmdutil.Exit(fmt.Errorf("could not start the engine health check: %w", err))
	}
	go func() {
		<-ctx.Done()
		h.shutdown("the Pulumi engine at " + address + " no longer answers")
	}()
}

// shutdown stops every process the host started (SIGINT, then SIGKILL after the grace
// period), then the gRPC server; a last timer makes sure the process ends. A reason
// (why) is printed: the engine shows a plugin's stderr to the user.
func (h *host) shutdown(why string) {
	h.stopOnce.Do(func() {
		h.children.stopAll()
		if why != "" {
			fmt.Fprintf(os.Stderr, "pulumi-language-python: stopping: %s\n", why)
		}
		close(h.stopServing)
		time.AfterFunc(childGrace+5*time.Second, func() { os.Exit(1) })
	})
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// Handshake is the first call of engines that start the host without arguments.
func (h *host) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.watchEngine(req.GetEngineAddress())
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// Cancel asks every running program and plugin to stop (SIGINT); the ones still
// running after the grace period are killed.
func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.children.stopAll()
	return &emptypb.Empty{}, nil
}
