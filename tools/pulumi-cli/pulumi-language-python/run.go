package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if req.GetAttachDebugger() {
		return &pulumirpc.RunResponse{Error: debuggerRefused}, nil
	}
	info := req.GetInfo()
	if info == nil {
		info = &pulumirpc.ProgramInfo{
			RootDirectory: req.GetPwd(), ProgramDirectory: req.GetPwd(), EntryPoint: req.GetProgram(),
		}
	}
	tc, opts, err := resolve(info)
	if err != nil {
		return nil, err
	}
	// A missing or broken virtualenv is a how-to error here, not `fork/exec ...`.
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	if err := typecheck(ctx, tc, opts, info.GetProgramDirectory()); err != nil {
		return nil, err
	}

	// -u: the program's output reaches the engine line by line, as it is written, and is
	// not lost in a buffer when the program dies (Pulumi's host runs it buffered).
	args := []string{"-u", h.shim}
	add := func(flag, value string) {
		if value != "" {
			args = append(args, "--"+flag, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress())
	add("project", req.GetProject())
	add("root_directory", info.GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("organization", req.GetOrganization())
	args = append(args, entryPoint(info))
	args = append(args, req.GetArgs()...)

	env, err := configEnv(req)
	if err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	prepare(cmd)
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Dir = req.GetPwd()
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	err = h.children.run(cmd)
	// The program may have died fast: what it printed must reach the engine first.
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	if err == nil {
		return &pulumirpc.RunResponse{}, nil
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("problem executing program (could not run language executor): %v", err),
		}, nil
	}
	switch code := exit.ExitCode(); code {
	case shownToUser:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case -1:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited unexpectedly: %v", exit)}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d", code)}, nil
	}
}

// entryPoint is the program the shim runs: the engine names it relative to the
// program directory ("." for its __main__.py).
func entryPoint(info *pulumirpc.ProgramInfo) string {
	program := info.GetEntryPoint()
	if program == "" {
		program = "."
	}
	if dir := info.GetProgramDirectory(); dir != "" && !filepath.IsAbs(program) {
		program = filepath.Join(dir, program)
	}
	return program
}

// configEnv is the stack configuration as the SDK reads it. No config at all is sent
// as no variable (the SDK then reads {}), never as `null`; secret keys are always a
// JSON list.
func configEnv(req *pulumirpc.RunRequest) ([]string, error) {
	var env []string
	if config := req.GetConfig(); config != nil {
		b, err := json.Marshal(config)
		if err != nil {
			return nil, fmt.Errorf("serialising the stack configuration: %w", err)
		}
		env = append(env, "PULUMI_CONFIG="+string(b))
	}
	keys := req.GetConfigSecretKeys()
	if keys == nil {
		keys = []string{}
	}
	b, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("serialising the secret configuration keys: %w", err)
	}
	return append(env, "PULUMI_CONFIG_SECRET_KEYS="+string(b)), nil
}

// typecheck runs the typechecker Pulumi.yaml names over the program directory; a type
// error fails the update before the program runs.
func typecheck(ctx context.Context, tc toolchain.Toolchain, opts toolchain.PythonOptions, dir string) error {
	name := typecheckerName(opts)
	if name == "" {
		return nil
	}
	if err := requireModule(ctx, tc, name); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == notInstalled {
			return fmt.Errorf("the typechecker option is set to %s, but %s is not installed in the "+
				"program's Python: %s", name, name, installHint(opts, name))
		}
		return fmt.Errorf("checking that %s is installed: %w", name, err)
	}
	args := []string{"-m", name}
	if name == "mypy" {
		if venv, err := tc.VirtualEnvPath(ctx); err == nil && venv != "" {
			if rel, err := filepath.Rel(dir, venv); err == nil {
				args = append(args, "--exclude", rel)
			}
		}
	}
	args = append(args, dir)
	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return err
	}
	prepare(cmd)
	cmd.Dir = dir
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 1 {
			return fmt.Errorf("%s found errors in the program (see its output above)", name)
		}
		return fmt.Errorf("%s could not check the program (see its output above): %w", name, err)
	}
	return nil
}

// installHint says how to add a package with the project's toolchain.
func installHint(opts toolchain.PythonOptions, pkg string) string {
	switch opts.Toolchain {
	case toolchain.Poetry:
		return fmt.Sprintf("run `poetry add %s`", pkg)
	case toolchain.Uv:
		return fmt.Sprintf("run `uv add %s`", pkg)
	default:
		return fmt.Sprintf("add %s to requirements.txt and run `pulumi install`", pkg)
	}
}

// The exit status of requireModule's check when the module is not installed.
const notInstalled = 3

// requireModule fails when the toolchain's Python cannot find the module; with exit
// status notInstalled when that is all that is wrong.
func requireModule(ctx context.Context, tc toolchain.Toolchain, module string) error {
	cmd, err := tc.Command(ctx, "-c", "import importlib.util, sys; "+
		"sys.exit(0 if importlib.util.find_spec(sys.argv[1]) else 3)", module)
	if err != nil {
		return err
	}
	return cmd.Run()
}
