// pulumi-language-go: the host of Pulumi Go programs, built here from Go modules (see
// minihost for why, and for what it does not do). Run builds the program with the Go
// toolchain on PATH (`go build`, in the program's directory; or runs the prebuilt
// binary the `binary` runtime option names) and runs it with the engine's settings in
// the environment variables the Go SDK reads (github.com/pulumi/pulumi/sdk/v3/go/pulumi,
// run.go). GeneratePackage (minihost) serves `pulumi package gen-sdk --language go`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/pulumi-batchip/pulumi-batchip/tools/pulumi-cli/minihost"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

type host struct {
	minihost.Base
}

func main() {
	h := &host{Base: minihost.Base{
		Name: "pulumi-language-go", Language: "go", Runtime: "Go",
	}}
	minihost.Serve(h, &h.Base)
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	dir, refused := h.ProgramDir(req)
	if refused != nil {
		return refused, nil
	}
	info := req.GetInfo()
	var binary string
	if opts := info.GetOptions(); opts != nil {
		if v, ok := opts.AsMap()["binary"]; ok {
			s, isString := v.(string)
			if !isString || s == "" {
				return nil, fmt.Errorf("the 'binary' option in Pulumi.yaml must be a path")
			}
			binary = s
			if !filepath.IsAbs(binary) {
				binary = filepath.Join(dir, binary)
			}
		}
	}
	if binary == "" {
		tmp, err := os.MkdirTemp("", "pulumi-go-program-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		binary = filepath.Join(tmp, "program")
		build := exec.CommandContext(ctx, "go", "build", "-o", binary, ".")
		build.Dir = dir
		if out, err := build.CombinedOutput(); err != nil {
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("`go build` of the program in %s failed: %v\n%s", dir, err, out),
			}, nil
		}
	}
	env, err := minihost.ConfigEnv(req)
	if err != nil {
		return nil, err
	}
	set := func(key, value string) {
		if value != "" {
			env = append(env, key+"="+value)
		}
	}
	set("PULUMI_MONITOR", req.GetMonitorAddress())
	set("PULUMI_ENGINE", h.Engine())
	set("PULUMI_PROJECT", req.GetProject())
	set("PULUMI_STACK", req.GetStack())
	set("PULUMI_ORGANIZATION", req.GetOrganization())
	set("PULUMI_ROOT_DIRECTORY", info.GetRootDirectory())
	set("PULUMI_DRY_RUN", strconv.FormatBool(req.GetDryRun()))
	set("PULUMI_PARALLEL", strconv.Itoa(int(req.GetParallel())))
	cmd := exec.CommandContext(ctx, binary, req.GetArgs()...) //nolint:gosec // the user's program
	cmd.Dir = req.GetPwd()
	return h.RunProgram(cmd, env)
}
