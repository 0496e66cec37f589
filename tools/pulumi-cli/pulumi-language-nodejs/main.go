// pulumi-language-nodejs: the host of Pulumi Node.js programs, built here from Go
// modules (see minihost for why, and for what it does not do). Run starts `node` on
// PATH with the runner of the program's own @pulumi/pulumi (`@pulumi/pulumi/cmd/run`,
// resolved from the program's directory as Node.js would), the engine's settings as
// that runner's flags and the environment variables it reads. The `typescript`
// runtime option (default true, as with Pulumi's host) runs TypeScript through the
// program's ts-node; with `typescript: false` the program is JavaScript (e.g. `tsc`
// output named by `main`). GeneratePackage (minihost) serves `pulumi package gen-sdk --language
// nodejs`.
package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"github.com/pulumi-batchip/pulumi-batchip/tools/pulumi-cli/minihost"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

type host struct {
	minihost.Base
}

func main() {
	h := &host{Base: minihost.Base{
		Name: "pulumi-language-nodejs", Language: "nodejs", Runtime: "Node.js",
	}}
	minihost.Serve(h, &h.Base)
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	dir, refused := h.ProgramDir(req)
	if refused != nil {
		return refused, nil
	}
	info := req.GetInfo()
	typescript := true
	if opts := info.GetOptions(); opts != nil {
		if v, ok := opts.AsMap()["typescript"]; ok {
			b, isBool := v.(bool)
			if !isBool {
				return nil, fmt.Errorf("the 'typescript' option in Pulumi.yaml must be true or false")
			}
			typescript = b
		}
	}
	// The runner of the program's own @pulumi/pulumi, as `require` finds it from there.
	var out, errOut bytes.Buffer
	locate := exec.CommandContext(ctx, "node", "-e", "console.log(require.resolve('@pulumi/pulumi/cmd/run'))")
	locate.Dir = dir
	locate.Stdout, locate.Stderr = &out, &errOut
	if err := locate.Run(); err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf(
			"cannot find @pulumi/pulumi from %s (run `npm install` there first): %v\n%s", dir, err, errOut.String())}, nil
	}
	runner := strings.TrimSpace(out.String())
	args := []string{runner}
	add := func(flag, value string) {
		if value != "" {
			args = append(args, "--"+flag, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.Engine())
	add("project", req.GetProject())
	add("stack", req.GetStack())
	add("organization", req.GetOrganization())
	add("root-directory", info.GetRootDirectory())
	add("pwd", req.GetPwd())
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)
	env, err := minihost.ConfigEnv(req)
	if err != nil {
		return nil, err
	}
	env = append(env, "PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(typescript))
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = req.GetPwd()
	return h.RunProgram(cmd, env)
}
