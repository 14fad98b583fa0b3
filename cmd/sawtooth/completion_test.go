package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// cliEnv makes the test binary run the CLI (for the shell scripts' calls
// of "sawtooth __complete").
const cliEnv = "SAWTOOTH_TEST_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(cliEnv) == "1" {
		os.Exit(run(os.Args))
	}
	os.Exit(m.Run())
}

// TestComplete checks the candidates for commands, shipped scenario names,
// variant names, --set keys, flags and values.
func TestComplete(t *testing.T) {
	cmds := newApp().Commands
	for _, c := range []struct {
		words    []string
		want     []string
		unwanted []string
	}{
		{[]string{""}, []string{"run", "report", "completion"}, []string{"__complete"}},
		{[]string{"run", ""}, []string{"quickstart", "offload", ":files"}, nil},
		{[]string{"scenarios", ""}, []string{"quickstart"}, []string{":files"}},
		{[]string{"run", "quickstart", "--variant", ""}, []string{"no-recycling", "max-requests"}, []string{"quickstart"}},
		{[]string{"run", "--ci", "offload", "--variant", ""}, []string{"offload=none", "offload=threads", "offload=processes"}, nil},
		{[]string{"validate", "quickstart", "--set", ""}, []string{"max_requests=", "repeat="}, nil},
		{[]string{"run", "--"}, []string{"--variant", "--set", "--ci"}, nil},
		{[]string{"report", "--format", ""}, []string{"html", "json"}, nil},
		{[]string{"report", ""}, []string{":dirs"}, nil},
		{[]string{"completion", ""}, []string{"bash", "zsh", "fish"}, nil},
	} {
		got := complete(cmds, c.words)
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("complete(%q) = %q, want %q among them", c.words, got, w)
			}
		}
		for _, w := range c.unwanted {
			if slices.Contains(got, w) {
				t.Errorf("complete(%q) = %q, want no %q", c.words, got, w)
			}
		}
	}
}

// TestBashCompletion sources the bash script "sawtooth completion bash"
// prints into a real bash and completes with it.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script, err := completionScripts.ReadFile("completion/sawtooth.bash")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		line string // the words; the last is completed
		want string
	}{
		{"run qui", "quickstart"},
		{"run quickstart --variant max", "max-requests"},
		{"compl", "completion"},
	} {
		words := strings.Fields(c.line)
		prog := string(script) + `
COMP_WORDS=("$SELF" ` + strings.Join(words, " ") + `)
COMP_CWORD=${#COMP_WORDS[@]}; COMP_CWORD=$((COMP_CWORD-1))
_sawtooth
printf '%s\n' "${COMPREPLY[@]}"
`
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c", prog)
		cmd.Env = append(os.Environ(), cliEnv+"=1", "SELF="+self)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: bash: %v\n%s", c.line, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("completing %q: got %q, want %q", c.line, got, c.want)
		}
	}
	if err := exec.Command(bash, "-n", "-c", string(script)).Run(); err != nil {
		t.Errorf("bash -n: %v", err)
	}
}

// TestCompletionCommand checks that each shell's script is printed and an
// unknown shell is bad usage.
func TestCompletionCommand(t *testing.T) {
	for _, sh := range completionShells() {
		b, err := completionScripts.ReadFile("completion/sawtooth." + sh)
		if err != nil || !strings.Contains(string(b), "__complete") {
			t.Errorf("%s script: %v", sh, err)
		}
	}
	if got := run([]string{"sawtooth", "completion", "tcsh"}); got != 2 {
		t.Errorf("completion tcsh: exit %d, want 2", got)
	}
}

// TestZshFishCompletion checks the zsh script's syntax and completes with
// the fish script in a real fish (complete -C). Both shells come with
// `make deps`; a test run in CI fails without them.
func TestZshFishCompletion(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	shell := func(name string) string {
		p, err := exec.LookPath(name)
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not installed; run `make deps`", name)
			}
			t.Logf("%s not installed, its completion is not tested; run `make deps`", name)
		}
		return p
	}
	dir := t.TempDir()
	if zsh := shell("zsh"); zsh != "" {
		p := dir + "/_sawtooth"
		b, _ := completionScripts.ReadFile("completion/sawtooth.zsh")
		os.WriteFile(p, b, 0o644)
		if out, err := exec.Command(zsh, "-n", p).CombinedOutput(); err != nil {
			t.Errorf("zsh -n: %v\n%s", err, out)
		}
	}
	fish := shell("fish")
	if fish == "" {
		return
	}
	// fish calls the program by its name: a "sawtooth" on PATH that is
	// this test binary running the CLI.
	bin := dir + "/bin"
	os.MkdirAll(bin, 0o755)
	if err := os.Symlink(self, bin+"/sawtooth"); err != nil {
		t.Fatal(err)
	}
	script := dir + "/sawtooth.fish"
	b, _ := completionScripts.ReadFile("completion/sawtooth.fish")
	os.WriteFile(script, b, 0o644)
	for line, want := range map[string]string{
		"sawtooth run qui":                      "quickstart",
		"sawtooth run quickstart --variant max": "max-requests",
	} {
		cmd := exec.Command(fish, "--no-config", "-c", "source "+script+"; complete -C'"+line+"'")
		cmd.Env = append(os.Environ(), cliEnv+"=1", "PATH="+bin+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("fish: %v\n%s", err, out)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("fish completing %q: got %q, want %q", line, got, want)
		}
	}
}
