package main

import (
	"errors"
	"fmt"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// parseOptions reads the `runtime.options` of Pulumi.yaml (or PulumiPolicy.yaml) as
// Pulumi's host does: each known option must have the right type and a known value,
// and a wrong one is an error before anything runs.
func parseOptions(info *pulumirpc.ProgramInfo) (toolchain.PythonOptions, error) {
	opts := toolchain.PythonOptions{
		Root:       info.GetRootDirectory(),
		ProgramDir: info.GetProgramDirectory(),
		Toolchain:  toolchain.Auto, // a uv.lock or poetry.lock picks its tool, else pip
	}
	var raw map[string]any
	if o := info.GetOptions(); o != nil {
		raw = o.AsMap()
	}
	if v, ok := raw["virtualenv"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("the 'virtualenv' option in Pulumi.yaml must be a string (a path)")
		}
		opts.Virtualenv = s
	}
	if v, ok := raw["typechecker"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("the 'typechecker' option in Pulumi.yaml must be a string: mypy or pyright")
		}
		switch s {
		case "mypy":
			opts.Typechecker = toolchain.TypeCheckerMypy
		case "pyright":
			opts.Typechecker = toolchain.TypeCheckerPyright
		default:
			return opts, fmt.Errorf("unsupported typechecker option %q in Pulumi.yaml: mypy or pyright", s)
		}
	}
	if v, ok := raw["toolchain"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("the 'toolchain' option in Pulumi.yaml must be a string: pip, uv or poetry")
		}
		switch s {
		case "pip":
			opts.Toolchain = toolchain.Pip
		case "uv":
			opts.Toolchain = toolchain.Uv
		case "poetry":
			opts.Toolchain = toolchain.Poetry
		default:
			return opts, fmt.Errorf("unsupported toolchain option %q in Pulumi.yaml: pip, uv or poetry", s)
		}
	}
	return opts, nil
}

// resolve parses the options and picks the toolchain they name.
func resolve(info *pulumirpc.ProgramInfo) (toolchain.Toolchain, toolchain.PythonOptions, error) {
	opts, err := parseOptions(info)
	if err != nil {
		return nil, opts, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	return tc, opts, err
}

func typecheckerName(opts toolchain.PythonOptions) string {
	switch opts.Typechecker {
	case toolchain.TypeCheckerMypy:
		return "mypy"
	case toolchain.TypeCheckerPyright:
		return "pyright"
	default:
		return ""
	}
}

func toolchainName(opts toolchain.PythonOptions) string {
	switch opts.Toolchain {
	case toolchain.Auto:
		return "auto"
	case toolchain.Uv:
		return "uv"
	case toolchain.Poetry:
		return "poetry"
	default:
		return "pip"
	}
}
