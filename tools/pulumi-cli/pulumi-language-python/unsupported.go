package main

// What this host refuses, with words a user can act on. The code-generation calls
// (GenerateProgram, GenerateProject, Pack, Link, Template) answer Unimplemented:
// `pulumi import` needs --generate-code=false with this host, and `pulumi convert`
// needs Pulumi's own host. GeneratePackage (`pulumi package gen-sdk --language
// python`) is served, by generate.go.

const debuggerRefused = "--attach-debugger is not supported by this Python language host " +
	"(pulumi-batchip's tools/pulumi-cli build); run without --attach-debugger, or with " +
	"Pulumi's official pulumi-language-python"
