package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os/exec"
	"regexp"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// GetRequiredPackages creates the virtualenv Pulumi.yaml names when it does not exist
// yet (installing requirements.txt, with pip's output shown by the engine), then
// reports the Pulumi packages installed in it, so `pulumi plugin install` and the
// engine's pre-install know the provider plugins the program will need.
func (h *host) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	packages, err := h.requiredPackages(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

// GetRequiredPlugins is the same answer for engines older than GetRequiredPackages.
func (h *host) GetRequiredPlugins(
	ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	packages, err := h.requiredPackages(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(packages))
	for _, p := range packages {
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: p.GetName(), Version: p.GetVersion(), Kind: p.GetKind(), Server: p.GetServer(),
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

func (h *host) requiredPackages(
	ctx context.Context, info *pulumirpc.ProgramInfo,
) ([]*pulumirpc.PackageDependency, error) {
	if info == nil {
		return nil, nil
	}
	tc, _, err := resolve(info)
	if err != nil {
		return nil, err
	}
	stdout, stderr, closeLog := h.engineWriters(ctx)
	defer closeLog()
	if err := tc.EnsureVenv(ctx, info.GetProgramDirectory(), false, true, stdout, stderr); err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	found, err := pulumiPackages(ctx, tc)
	if err != nil {
		return nil, err
	}
	var packages []*pulumirpc.PackageDependency
	for _, p := range found {
		if dep := p.dependency(); dep != nil {
			packages = append(packages, dep)
		}
	}
	return packages, nil
}

// installedPackage is one distribution in the program's Python, with the
// pulumi-plugin.json its top-level module ships, if any.
type installedPackage struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	Plugin  json.RawMessage `json:"plugin"`
}

type pluginJSON struct {
	Resource bool   `json:"resource"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	Server   string `json:"server"`
}

// Packages that are Pulumi's but have no provider plugin (older releases ship no
// pulumi-plugin.json to say so).
var withoutPlugin = map[string]bool{"pulumi-policy": true, "pulumi-esc-sdk": true}

// One Python run lists the distributions and reads each one's pulumi-plugin.json
// (where Pulumi's host runs pip list and then pip show per package).
const listScript = `
import importlib.metadata as md, importlib.util as iu, json, os, sys
def plugin_of(dist, name, is_pulumi):
    for f in dist.files or ():
        if f.name == "pulumi-plugin.json" and len(f.parts) == 2:
            return f.read_text()
    if not is_pulumi:
        return None
    # editable installs list no package files: look beside the module itself
    module = name.lower().replace("-", "_").replace(".", "_")
    spec = iu.find_spec(module) if module.isidentifier() else None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            path = os.path.join(location, "pulumi-plugin.json")
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as fh:
                    return fh.read()
    return None
out = []
for dist in md.distributions():
    name = dist.metadata["Name"] or ""
    is_pulumi = name.lower().replace("_", "-").startswith("pulumi-")
    try:
        text = plugin_of(dist, name, is_pulumi)
        plugin = json.loads(text) if text else None
    except Exception:
        plugin = None
    if plugin is not None or is_pulumi:
        out.append({"name": name, "version": dist.version, "plugin": plugin})
json.dump(out, sys.stdout)
`

func pulumiPackages(ctx context.Context, tc toolchain.Toolchain) ([]installedPackage, error) {
	cmd, err := tc.Command(ctx, "-c", listScript)
	if err != nil {
		return nil, err
	}
	out, err := cmd.Output()
	if err != nil {
		detail := ""
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			detail = ": " + strings.TrimSpace(string(exit.Stderr))
		}
		return nil, fmt.Errorf("listing the Python packages installed for the program with %s: %w%s",
			cmd.Path, err, detail)
	}
	var found []installedPackage
	if err := json.Unmarshal(out, &found); err != nil {
		return nil, fmt.Errorf("reading the program's Python packages: %w", err)
	}
	return found, nil
}

// dependency is the provider plugin the package needs, or nil: none declared
// (`"resource": false`), a known plugin-less package, or a version that names no
// plugin release.
func (p installedPackage) dependency() *pulumirpc.PackageDependency {
	normalized := strings.ToLower(strings.ReplaceAll(p.Name, "_", "-"))
	var declared pluginJSON
	hasJSON := len(p.Plugin) > 0 && string(p.Plugin) != "null"
	if hasJSON {
		if err := json.Unmarshal(p.Plugin, &declared); err != nil || !declared.Resource {
			return nil
		}
	} else if withoutPlugin[normalized] {
		return nil
	}
	name := declared.Name
	if name == "" {
		name = strings.TrimPrefix(normalized, "pulumi-")
	}
	version := declared.Version
	if version == "" {
		v, ok := pluginVersion(p.Version)
		if !ok {
			return nil
		}
		version = v
	}
	if !strings.HasPrefix(version, "v") {
		version = "v" + version
	}
	return &pulumirpc.PackageDependency{Name: name, Version: version, Kind: "resource", Server: declared.Server}
}

var pep440 = regexp.MustCompile(`^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(a|b|rc)(\d+))?$`)

// pluginVersion turns a package's PEP 440 version into its plugin's semver: 1.2 ->
// 1.2.0, 1.2.3a4 -> 1.2.3-alpha.4, 1.2.3rc1 -> 1.2.3-rc.1. Anything else (dev, post,
// local, epochs, four parts) names no plugin release we can know: not reported.
func pluginVersion(v string) (string, bool) {
	m := pep440.FindStringSubmatch(v)
	if m == nil {
		return "", false
	}
	parts := []string{m[1], m[2], m[3]}
	for i, p := range parts {
		if p == "" {
			parts[i] = "0"
		}
	}
	out := strings.Join(parts, ".")
	switch m[4] {
	case "a":
		out += "-alpha." + m[5]
	case "b":
		out += "-beta." + m[5]
	case "rc":
		out += "-rc." + m[5]
	}
	return out, true
}

// GetProgramDependencies lists the program's Python packages (`pulumi about`).
func (h *host) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	info := req.GetInfo()
	if info == nil {
		info = &pulumirpc.ProgramInfo{RootDirectory: req.GetPwd(), ProgramDirectory: req.GetPwd()}
	}
	tc, _, err := resolve(info)
	if err != nil {
		return nil, err
	}
	found, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, fmt.Errorf("listing the program's Python dependencies: %w", err)
	}
	deps := make([]*pulumirpc.DependencyInfo, 0, len(found))
	for _, d := range found {
		deps = append(deps, &pulumirpc.DependencyInfo{Name: d.Name, Version: d.Version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

// About names the Python that runs the program (`pulumi about`, and the runtime
// metadata every update records).
func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	info := req.GetInfo()
	if info == nil {
		info = &pulumirpc.ProgramInfo{}
	}
	tc, opts, err := resolve(info)
	if err != nil {
		return nil, err
	}
	about, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	metadata := map[string]string{"toolchain": toolchainName(opts)}
	if about.ToolchainVersion.Major+about.ToolchainVersion.Minor+about.ToolchainVersion.Patch > 0 {
		metadata["toolchainVersion"] = about.ToolchainVersion.String()
	}
	if name := typecheckerName(opts); name != "" {
		metadata["typechecker"] = name
	}
	if venv, err := tc.VirtualEnvPath(ctx); err == nil && venv != "" {
		metadata["virtualenv"] = venv
	}
	return &pulumirpc.AboutResponse{
		Executable: about.PythonExecutable,
		Version:    about.PythonVersion.String(),
		Metadata:   metadata,
	}, nil
}

// engineWriters send what they are given to the engine as ephemeral log messages
// (pip's output while a virtualenv is made); without an engine, to nowhere. The
// returned func closes the connection.
func (h *host) engineWriters(ctx context.Context) (io.Writer, io.Writer, func()) {
	address := h.engineAddress()
	if address == "" {
		return io.Discard, io.Discard, func() {}
	}
	conn, err := grpc.NewClient(address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return io.Discard, io.Discard, func() {}
	}
	client := pulumirpc.NewEngineClient(conn)
	stream := rand.Int31() //nolint:gosec // a stream id, not a secret
	return &engineLog{ctx, client, stream, pulumirpc.LogSeverity_INFO},
		&engineLog{ctx, client, stream, pulumirpc.LogSeverity_ERROR},
		func() { _ = conn.Close() }
}

type engineLog struct {
	ctx      context.Context
	client   pulumirpc.EngineClient
	stream   int32
	severity pulumirpc.LogSeverity
}

func (w *engineLog) Write(p []byte) (int, error) {
	_, err := w.client.Log(w.ctx, &pulumirpc.LogRequest{
		Message:   strings.ToValidUTF8(string(p), "\uFFFD"),
		Ephemeral: true,
		StreamId:  w.stream,
		Severity:  w.severity,
	})
	if err != nil {
		return 0, err
	}
	return len(p), nil
}
