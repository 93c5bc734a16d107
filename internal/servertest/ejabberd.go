package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"

	ejabberdfiles "github.com/xmppconn/xmppconn/testdata/ejabberd"
)

// ejabberd runs Debian's ejabberd 23.01 on the Erlang VM directly, not
// through ejabberdctl: no Erlang distribution (so no epmd and no cookie),
// the node is nonode@nohost, and everything it writes is in the server's
// Dir. The environment is the part of ejabberdctl's that matters.
type ejabberd struct {
	erl string // erl on PATH
	app string // /usr/lib/<multiarch>/ejabberd-VERSION, with ebin/ and include/
}

// ejabberdConfig is what ejabberd.yml.tmpl is rendered with.
type ejabberdConfig struct {
	LogLevel                         string
	CertFile, KeyFile                string
	C2SPort, HTTPPort, HTTPSPort     int
	ResumeTimeout, BOSHMaxInactivity int
	PasswordFormat                   string
	ExtraModules, ExtraConfig        string
}

var ejabberdTemplate = template.Must(template.New("ejabberd.yml").
	Funcs(template.FuncMap{"yaml": yamlString}).
	Option("missingkey=error").
	Parse(ejabberdfiles.ConfigTemplate))

func (e *ejabberd) configure(s *Server, o *Options) error {
	if err := e.compileTestModule(s); err != nil {
		return err
	}
	level := "info"
	if debugLog() {
		level = "debug"
	}
	certs := filepath.Join(s.Dir, "certs")
	var b strings.Builder
	err := ejabberdTemplate.Execute(&b, ejabberdConfig{
		LogLevel:          level,
		CertFile:          filepath.Join(certs, "localhost.crt"),
		KeyFile:           filepath.Join(certs, "localhost.key"),
		C2SPort:           s.C2SPort,
		HTTPPort:          s.HTTPPort,
		HTTPSPort:         s.HTTPSPort,
		ResumeTimeout:     o.ResumeTimeout,
		BOSHMaxInactivity: o.BOSHMaxInactivity,
		PasswordFormat:    o.Ejabberd.PasswordFormat,
		ExtraModules:      o.Ejabberd.ExtraModules,
		ExtraConfig:       o.Ejabberd.ExtraConfig,
	})
	if err != nil {
		return fmt.Errorf("servertest: render config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "ejabberd.yml"), []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("servertest: write config: %w", err)
	}
	return nil
}

// compileTestModule compiles mod_xmppconn_test.erl into Dir/ebin, once.
func (e *ejabberd) compileTestModule(s *Server) error {
	ebin := filepath.Join(s.Dir, "ebin")
	if _, err := os.Stat(filepath.Join(ebin, "mod_xmppconn_test.beam")); err == nil {
		return nil
	}
	if err := os.MkdirAll(ebin, 0o700); err != nil {
		return fmt.Errorf("servertest: compile the ejabberd test module: %w", err)
	}
	src := filepath.Join(ebin, "mod_xmppconn_test.erl")
	if err := os.WriteFile(src, []byte(ejabberdfiles.TestModule), 0o600); err != nil {
		return fmt.Errorf("servertest: compile the ejabberd test module: %w", err)
	}
	erlc := filepath.Join(filepath.Dir(e.erl), "erlc")
	out, err := exec.Command(erlc, "-I", filepath.Join(e.app, "include"), "-o", ebin, src).CombinedOutput()
	if err != nil {
		return fmt.Errorf("servertest: compile the ejabberd test module: %v\n%s", err, out)
	}
	return nil
}

func (e *ejabberd) command(s *Server) *exec.Cmd {
	cmd := exec.Command(e.erl, "-noshell", "-noinput", "+K", "true",
		"-pa", filepath.Join(s.Dir, "ebin"),
		"-mnesia", "dir", erlangString(filepath.Join(s.Dir, "data")),
		"-s", "ejabberd")
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(),
		"HOME="+s.Dir, // where a cookie would go; there is no distribution to use one
		"EJABBERD_CONFIG_PATH="+filepath.Join(s.Dir, "ejabberd.yml"),
		"EJABBERD_LOG_PATH="+s.logFile,
		"ERL_LIBS="+filepath.Dir(e.app),
		"ERL_CRASH_DUMP="+filepath.Join(s.Dir, "erl_crash.dump"),
		"XMPPCONN_TEST_INSTANCE="+s.instance,
	)
	return cmd
}

func (e *ejabberd) logProblem(log []byte) error {
	switch {
	case bytes.Contains(log, []byte("eaddrinuse")):
		return errPortTaken
	case bytes.Contains(log, []byte("Failed to start module")),
		bytes.Contains(log, []byte("Invalid value of option")):
		return fmt.Errorf("servertest: start %s: the configuration or a module failed", Ejabberd)
	}
	return nil
}

// addUser registers the account with mod_http_api (register, then
// change_password when it exists).
func (e *ejabberd) addUser(ctx context.Context, s *Server, user, password string) error {
	status, msg, err := e.api(ctx, s, "register", map[string]string{"user": user, "host": s.Domain, "password": password})
	if err != nil {
		return fmt.Errorf("servertest: add user %s: %w", user, err)
	}
	if status == http.StatusOK {
		return nil
	}
	if status != http.StatusConflict {
		return fmt.Errorf("servertest: add user %s: register: status %d: %s", user, status, msg)
	}
	status, msg, err = e.api(ctx, s, "change_password", map[string]string{"user": user, "host": s.Domain, "newpass": password})
	if err != nil {
		return fmt.Errorf("servertest: add user %s: %w", user, err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("servertest: add user %s: change_password: status %d: %s", user, status, msg)
	}
	return nil
}

// api calls one mod_http_api command and returns the status and the
// answer's message, which never holds the arguments.
func (e *ejabberd) api(ctx context.Context, s *Server, command string, args map[string]string) (int, string, error) {
	body, err := json.Marshal(args)
	if err != nil {
		return 0, "", err
	}
	u := "http://" + s.addr(s.HTTPPort) + "/api/" + command
	answer, status, err := s.do(ctx, http.MethodPost, u, body, jsonType)
	if err != nil {
		return 0, "", err
	}
	var failure struct {
		Message string `json:"message"`
	}
	if json.Unmarshal([]byte(answer), &failure) == nil && failure.Message != "" {
		return status, failure.Message, nil
	}
	return status, strings.TrimSpace(answer), nil
}

// yamlString quotes s as a YAML double-quoted scalar (JSON's escapes are
// YAML's).
func yamlString(s string) string { return strconv.Quote(s) }

// erlangString quotes s as an Erlang string literal, for -mnesia dir.
func erlangString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
