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
	err := choose(raw, "typechecker", "mypy or pyright", map[string]func(){
		"mypy":    func() { opts.Typechecker = toolchain.TypeCheckerMypy },
		"pyright": func() { opts.Typechecker = toolchain.TypeCheckerPyright },
	})
	if err != nil {
		return opts, err
	}
	err = choose(raw, "toolchain", "pip, uv or poetry", map[string]func(){
		"pip":    func() { opts.Toolchain = toolchain.Pip },
		"uv":     func() { opts.Toolchain = toolchain.Uv },
		"poetry": func() { opts.Toolchain = toolchain.Poetry },
	})
	if err != nil {
		return opts, err
	}
	return opts, nil
}

// choose runs the setter named by the string option raw[key], when the option is there.
func choose(raw map[string]any, key, names string, setters map[string]func()) error {
	v, ok := raw[key]
	if !ok {
		return nil
	}
	s, isString := v.(string)
	if !isString {
		return fmt.Errorf("the '%s' option in Pulumi.yaml must be a string: %s", key, names)
	}
	set, known := setters[s]
	if !known {
		return fmt.Errorf("unsupported %s option %q in Pulumi.yaml: %s", key, s, names)
	}
	set()
	return nil
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
