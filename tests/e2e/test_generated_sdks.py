"""The SDKs `pulumi package gen-sdk` generates from the native plugin's schema, for
Node.js, Go and Python: generated here into a temporary folder (nothing committed,
nothing to drift), compiled (`tsc`, `go build`, `compileall` and an import), then a
small program in each language run through `pulumi up` / `destroy` against the
emulator, by the language hosts scripts/pulumi-cli.sh provides.

The tools come from PATH (`node` and `npm`, `go`); without one the tests that need it
skip, or fail under BATCHIP_E2E_REQUIRED=1. npm downloads go through a per-user cache
(${XDG_CACHE_HOME:-~/.cache}/pulumi-batchip/npm), Go's through its module cache."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pulumi_batchip.native.schema import GO_MODULE, LANGUAGES, schema_json

from ..conftest import Admin
from .conftest import REPO, Stack, held, native_stack, plugin_dir

# The versions installed next to the generated SDKs. @pulumi/pulumi 3.248.0 is the last
# that supports Node.js 20 (3.249.0 on want Node.js 22); typescript and @types/node as
# the generated package.json asks (a TypeScript of 4.7 or later, Node 20 types).
NPM_PINS = {"@pulumi/pulumi": "3.248.0", "typescript": "5.9.3", "@types/node": "20.19.43"}
# The Go SDK builds against the Pulumi Go SDK of the CLI's own version.
PULUMI_GO_SDK = "github.com/pulumi/pulumi/sdk/v3"
PULUMI_VERSION = re.search(
    r"github.com/pulumi/pulumi/sdk/v3 (v\S+)", (REPO / "tools/pulumi-cli/go.mod").read_text()
)[1]  # type: ignore[index]
NPM_PACKAGE = LANGUAGES["nodejs"]["packageName"]
PY_PACKAGE = LANGUAGES["python"]["packageName"]
GO_PACKAGE = LANGUAGES["go"]["importBasePath"]


def need(*tools: str) -> None:
    """Skips (fails under BATCHIP_E2E_REQUIRED=1) unless every tool is on PATH."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        reason = f"{', '.join(missing)} not on PATH: needed to build the generated SDK"
        if os.environ.get("BATCHIP_E2E_REQUIRED") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    started = time.monotonic()
    result = subprocess.run(
        list(args),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    took = time.monotonic() - started
    print(f"$ {' '.join(args)}  ({took:.1f} s)", file=sys.stderr)
    assert result.returncode == 0, (
        f"{' '.join(args)} exited {result.returncode} in {cwd}\n"
        f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
    )
    return result.stdout


def npm_cache() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "pulumi-batchip" / "npm"


def npm_install(folder: Path, *specs: str) -> None:
    run(
        "npm",
        "install",
        "--no-audit",
        "--no-fund",
        "--save-exact",
        "--install-links",  # a file: dependency is copied in: one @pulumi/pulumi
        "--cache",
        str(npm_cache()),
        *specs,
        cwd=folder,
    )


def pinned(*names: str) -> list[str]:
    return [f"{name}@{NPM_PINS[name]}" for name in names]


@pytest.fixture(scope="module")
def sdks(tmp_path_factory: pytest.TempPathFactory, pulumi_bin: Path) -> Path:
    """The three SDKs, generated from the plugin (by path) into one folder, as the
    README shows: `pulumi package gen-sdk <plugin> --language <lang> --out <folder>`."""
    tmp = tmp_path_factory.mktemp("sdks")
    env = Stack(tmp, pulumi_bin, "").env
    plugin = plugin_dir(tmp) / "pulumi-resource-batchip"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    out = tmp / "sdk"
    for language in ("nodejs", "go", "python"):
        run(
            "pulumi",
            "--non-interactive",
            "package",
            "gen-sdk",
            str(plugin),
            "--language",
            language,
            "--out",
            str(out),
            cwd=tmp,
            env=env,
        )
    return out


def test_generated_files(sdks: Path) -> None:
    package = json.loads((sdks / "nodejs" / "package.json").read_text())
    assert package["name"] == NPM_PACKAGE
    assert package["pulumi"] == {"resource": True, "name": "batchip", "version": package["version"]}
    for name in ("eipBatch.ts", "secondaryIpSet.ts", "provider.ts", "types/input.ts"):
        assert (sdks / "nodejs" / name).is_file(), name
    go_mod = (sdks / "go" / "go.mod").read_text()
    assert f"module {GO_MODULE}\n" in go_mod and f"require {PULUMI_GO_SDK} v3." in go_mod
    for name in ("eipBatch.go", "secondaryIpSet.go", "provider.go", "config/config.go"):
        assert (sdks / "go" / "batchip" / name).is_file(), name
    pyproject = (sdks / "python" / "pyproject.toml").read_text()
    assert f'name = "{PY_PACKAGE}"' in pyproject
    for name in ("eip_batch.py", "secondary_ip_set.py", "provider.py", "config/vars.py"):
        assert (sdks / "python" / PY_PACKAGE / name).is_file(), name


@pytest.fixture(scope="module")
def node_sdk(sdks: Path) -> Path:
    """The Node.js SDK built as its package.json says (`tsc`, into bin/), with
    package.json beside the output, ready for `npm install <folder>`."""
    need("node", "npm")
    folder = sdks / "nodejs"
    npm_install(folder, *pinned("@pulumi/pulumi", "typescript", "@types/node"))
    run("npx", "--no-install", "tsc", cwd=folder)
    shutil.copy(folder / "package.json", folder / "bin" / "package.json")
    return folder / "bin"


@pytest.mark.timeout(600)
def test_typescript_sdk_compiles(node_sdk: Path) -> None:
    for name in ("index.js", "index.d.ts", "eipBatch.js", "eipBatch.d.ts", "types/input.d.ts"):
        assert (node_sdk / name).is_file(), name


@pytest.fixture(scope="module")
def go_sdk(sdks: Path) -> Path:
    """The Go SDK built (`go build ./...`) against the Pulumi Go SDK of the CLI's version."""
    need("go")
    folder = sdks / "go"
    run("go", "mod", "edit", f"-require={PULUMI_GO_SDK}@{PULUMI_VERSION}", cwd=folder)
    run("go", "mod", "tidy", cwd=folder)
    run("go", "build", "./...", cwd=folder)
    return folder


@pytest.mark.timeout(900)
def test_go_sdk_builds(go_sdk: Path) -> None:
    assert f"{PULUMI_GO_SDK} {PULUMI_VERSION}" in (go_sdk / "go.mod").read_text()


@pytest.fixture(scope="module")
def py_sdk(sdks: Path) -> Path:
    """The Python SDK compiled, then pip-installed (it reads its own version from its
    distribution's metadata) into a folder of its own, to put on PYTHONPATH; its
    dependencies (pulumi) are the test environment's."""
    folder = sdks / "python"
    run(sys.executable, "-m", "compileall", "-q", PY_PACKAGE, cwd=folder)
    site = sdks.parent / "python-site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run(*pip, "--no-deps", "--target", str(site), str(folder), cwd=folder)
    return site


def test_python_sdk_compiles_and_imports(py_sdk: Path) -> None:
    """Installed, it imports beside this package (pulumi_batchip, another name)."""
    probe = (
        f"import pulumi_batchip, {PY_PACKAGE} as b; "
        "print(sorted(n for n in ('EipBatch', 'SecondaryIpSet', 'Provider', 'BandwidthArgs') "
        "if hasattr(b, n)))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(py_sdk), str(REPO)])}
    out = run(sys.executable, "-c", probe, cwd=py_sdk, env=env)
    assert out.strip() == "['BandwidthArgs', 'EipBatch', 'Provider', 'SecondaryIpSet']"


def test_gen_sdk_needs_the_language_host(tmp_path: Path, pulumi_bin: Path) -> None:
    """The CLI alone cannot generate: it hands the work to pulumi-language-<lang>."""
    alone = tmp_path / "cli-alone"
    alone.mkdir()
    # A copy: the CLI looks beside its own (symlink-resolved) executable too.
    shutil.copy2(pulumi_bin / "pulumi", alone / "pulumi")
    stack = Stack(tmp_path, pulumi_bin, "")
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    stack.env["PATH"] = os.pathsep.join([str(alone), *(p for p in path if p != str(pulumi_bin))])
    if shutil.which("pulumi-language-go", path=stack.env["PATH"]):
        pytest.skip("a pulumi-language-go on PATH outside the toolchain")
    schema = tmp_path / "schema.json"
    schema.write_text(schema_json())
    result = stack.run("package", "gen-sdk", str(schema), "--language", "go", check=False)
    assert result.returncode != 0
    assert "no language plugin 'pulumi-language-go' found" in result.stderr


# The same small stack in each language: 2 EIPs (dedicated 5 Mbit/s) and 2 secondary
# IPs on a VM, tagged with each other's outputs; the stack exports the addresses.
PYTHON_PROGRAM = f"""
import pulumi
import {PY_PACKAGE} as batchip

count = pulumi.Config().get_int("count") or 2
app = batchip.SecondaryIpSet("app", instance_id="i-DhjUXmSA", count=2)
edge = batchip.EipBatch(
    "edge",
    count=count,
    bandwidth=batchip.BandwidthArgs(size=5, share_type="PER"),
    tags={{"team": "web"}},
)
pulumi.export("publicIps", edge.public_ips)
pulumi.export("privateIps", app.private_ips)
pulumi.export("batchId", edge.batch_id)
"""

GO_PROGRAM = f"""
package main

import (
	"{GO_PACKAGE}"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {{
	pulumi.Run(func(ctx *pulumi.Context) error {{
		count := config.GetInt(ctx, "count")
		if count == 0 {{
			count = 2
		}}
		app, err := batchip.NewSecondaryIpSet(ctx, "app", &batchip.SecondaryIpSetArgs{{
			InstanceId: pulumi.String("i-DhjUXmSA"),
			Count:      pulumi.IntPtr(2),
		}})
		if err != nil {{
			return err
		}}
		edge, err := batchip.NewEipBatch(ctx, "edge", &batchip.EipBatchArgs{{
			Count:     pulumi.Int(count),
			Bandwidth: &batchip.BandwidthArgs{{
				Size:      pulumi.IntPtr(5),
				ShareType: pulumi.StringPtr("PER"),
			}},
			Tags:      pulumi.StringMap{{"team": pulumi.String("web")}},
		}})
		if err != nil {{
			return err
		}}
		ctx.Export("publicIps", edge.PublicIps)
		ctx.Export("privateIps", app.PrivateIps)
		ctx.Export("batchId", edge.BatchId)
		return nil
	}})
}}
"""

TS_PROGRAM = f"""
import * as pulumi from "@pulumi/pulumi";
import * as batchip from "{NPM_PACKAGE}";

const count = new pulumi.Config().getNumber("count") ?? 2;
const app = new batchip.SecondaryIpSet("app", {{ instanceId: "i-DhjUXmSA", count: 2 }});
const edge = new batchip.EipBatch("edge", {{
    count,
    bandwidth: {{ size: 5, shareType: "PER" }},
    tags: {{ team: "web" }},
}});
export const publicIps = edge.publicIps;
export const privateIps = app.privateIps;
export const batchId = edge.batchId;
"""


def lifecycle(stack: Stack, cloud: Admin) -> None:
    """up (2 EIPs, 2 secondary IPs), nothing to change, count 3 in place, destroy."""
    stack.run("stack", "init", stack.name)
    stack.up()
    assert held(cloud) == (2, 2)
    out = stack.outputs()
    assert len(out["publicIps"]) == 2 and len(out["privateIps"]) == 2
    [edge] = stack.resources("batchip:index:EipBatch")
    assert edge["id"] == out["batchId"]
    assert edge["outputs"]["tags"] == {"team": "web"}
    stack.preview("--expect-no-changes")
    stack.config_set("count", "3")
    result = stack.up()
    assert "replace" not in result.stdout, result.stdout
    assert held(cloud) == (2, 3) and stack.outputs()["batchId"] == out["batchId"]
    stack.destroy()
    assert held(cloud) == (0, 0)


def emulator_env(stack: Stack, tmp: Path) -> Stack:
    """The native plugin on PATH, credentials and endpoints from the environment."""
    native_stack(stack, tmp)
    stack.env.update(
        BATCHIP_BCC_ENDPOINT=stack.emulator_url, BATCHIP_EIP_ENDPOINT=stack.emulator_url
    )
    return stack


@pytest.mark.timeout(600)
def test_python_program_with_the_generated_sdk(
    stack: Stack, cloud: Admin, py_sdk: Path, tmp_path: Path
) -> None:
    emulator_env(stack, tmp_path)
    stack.write_program(PYTHON_PROGRAM, project="batchip-sdk-python")
    stack.python_path(py_sdk, REPO)
    lifecycle(stack, cloud)


@pytest.mark.timeout(900)
def test_go_program_with_the_generated_sdk(
    stack: Stack, cloud: Admin, go_sdk: Path, tmp_path: Path
) -> None:
    emulator_env(stack, tmp_path)
    (stack.dir / "Pulumi.yaml").write_text("name: batchip-sdk-go\nruntime: go\n")
    (stack.dir / "main.go").write_text(textwrap.dedent(GO_PROGRAM).lstrip())
    (stack.dir / "go.mod").write_text(
        f"module batchip-sdk-go\n\ngo 1.25\n\n"
        f"require {GO_MODULE} v0.0.0\n\nreplace {GO_MODULE} => {go_sdk}\n"
    )
    run("go", "mod", "edit", f"-require={PULUMI_GO_SDK}@{PULUMI_VERSION}", cwd=stack.dir)
    run("go", "mod", "tidy", cwd=stack.dir)
    lifecycle(stack, cloud)


@pytest.mark.timeout(900)
def test_typescript_program_with_the_generated_sdk(
    stack: Stack, cloud: Admin, node_sdk: Path, tmp_path: Path
) -> None:
    emulator_env(stack, tmp_path)
    # typescript: false: the host runs bin/index.js, tsc's output (no ts-node needed).
    (stack.dir / "Pulumi.yaml").write_text(
        "name: batchip-sdk-nodejs\nmain: bin/index.js\n"
        "runtime:\n  name: nodejs\n  options:\n    typescript: false\n"
    )
    (stack.dir / "package.json").write_text(
        json.dumps({"name": "batchip-sdk-nodejs", "private": True, "main": "bin/index.js"})
    )
    (stack.dir / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {
                    "outDir": "bin",
                    "target": "ES2022",
                    "module": "commonjs",
                    "strict": True,
                    "types": ["node"],
                },
                "files": ["index.ts"],
            }
        )
    )
    (stack.dir / "index.ts").write_text(textwrap.dedent(TS_PROGRAM).lstrip())
    npm_install(stack.dir, str(node_sdk), *pinned("@pulumi/pulumi", "typescript", "@types/node"))
    run("npx", "--no-install", "tsc", cwd=stack.dir)
    lifecycle(stack, cloud)
