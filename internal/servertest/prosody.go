package servertest

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"

	prosodyfiles "github.com/xmppconn/xmppconn/testdata/prosody"
)

// prosody runs Prosody 0.12 or 13 through a launcher: the Debian
// /usr/bin/prosody, or the copy `make prosody13` points at its unpacked tree.
type prosody struct {
	kind     Kind
	launcher string
}

// prosodyConfig is what prosody.cfg.lua.tmpl is rendered with.
type prosodyConfig struct {
	PIDFile, DataDir, ModulesDir, InstallerDir, CertsDir string
	LogFile, LogLevel                                    string
	CertFile, KeyFile                                    string
	C2SPort, HTTPPort, HTTPSPort                         int
	ResumeTimeout, BOSHMaxInactivity                     int
	Modules, ModulesDisabled                             []string
	ExtraGlobal, ExtraHost, ExtraMUC, ExtraSections      string
	Instance                                             string
}

var prosodyTemplate = template.Must(template.New("prosody.cfg.lua").
	Funcs(template.FuncMap{"lua": luaString}).
	Option("missingkey=error").
	Parse(prosodyfiles.ConfigTemplate))

// modulesDisabled returns what the configuration turns off: s2s always, and
// on Prosody 13 mod_http_altconnect, which it loads by itself and which
// serves /.well-known/ too, in the way of the test host-meta module.
func (p *prosody) modulesDisabled() []string {
	if p.kind == Prosody13 {
		return []string{"s2s", "http_altconnect"}
	}
	return []string{"s2s"}
}

func (p *prosody) configure(s *Server, o *Options) error {
	modules := filepath.Join(s.Dir, "modules")
	if err := writeProsodyModules(modules); err != nil {
		return err
	}
	level := "info"
	if debugLog() {
		level = "debug"
	}
	certs := filepath.Join(s.Dir, "certs")
	return renderProsodyConfig(filepath.Join(s.Dir, "prosody.cfg.lua"), prosodyConfig{
		PIDFile:           filepath.Join(s.Dir, "prosody.pid"),
		DataDir:           filepath.Join(s.Dir, "data"),
		ModulesDir:        modules,
		InstallerDir:      filepath.Join(s.Dir, "custom_plugins"),
		CertsDir:          certs,
		LogFile:           s.logFile,
		LogLevel:          level,
		CertFile:          filepath.Join(certs, "localhost.crt"),
		KeyFile:           filepath.Join(certs, "localhost.key"),
		C2SPort:           s.C2SPort,
		HTTPPort:          s.HTTPPort,
		HTTPSPort:         s.HTTPSPort,
		ResumeTimeout:     o.ResumeTimeout,
		BOSHMaxInactivity: o.BOSHMaxInactivity,
		Modules:           o.Prosody.Modules,
		ModulesDisabled:   p.modulesDisabled(),
		ExtraGlobal:       o.Prosody.ExtraGlobal,
		ExtraHost:         o.Prosody.ExtraHost,
		ExtraMUC:          o.Prosody.ExtraMUC,
		ExtraSections:     o.Prosody.ExtraSections,
		Instance:          s.instance,
	})
}

func (p *prosody) command(s *Server) *exec.Cmd {
	cmd := exec.Command(p.launcher, "--config", filepath.Join(s.Dir, "prosody.cfg.lua"), "-F")
	cmd.Dir = s.Dir
	return cmd
}

func (p *prosody) logProblem(log []byte) error {
	switch {
	case bytes.Contains(log, []byte("Failed to open server port")):
		return errPortTaken
	case bytes.Contains(log, []byte("Unable to load module")),
		bytes.Contains(log, []byte("Error initializing module")):
		return fmt.Errorf("servertest: start %s: a module failed to load", p.kind)
	}
	return nil
}

// addUser goes through mod_xmppconn_test's users endpoint.
func (p *prosody) addUser(ctx context.Context, s *Server, user, password string) error {
	form := url.Values{"user": {user}, "host": {s.Domain}, "password": {password}}
	body, status, err := s.do(ctx, http.MethodPost, s.controlURL("users"), []byte(form.Encode()), formType)
	if err != nil {
		return fmt.Errorf("servertest: add user %s: %w", user, err)
	}
	if status != http.StatusOK && status != http.StatusCreated {
		return fmt.Errorf("servertest: add user %s: status %d: %s", user, status, strings.TrimSpace(body))
	}
	return nil
}

// renderProsodyConfig writes the Prosody configuration for data to path.
func renderProsodyConfig(path string, data prosodyConfig) error {
	var b strings.Builder
	if err := prosodyTemplate.Execute(&b, data); err != nil {
		return fmt.Errorf("servertest: render config: %w", err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("servertest: write config: %w", err)
	}
	return nil
}

// luaString quotes s as a Lua string literal.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// writeProsodyModules copies the embedded test-only Prosody modules into dir.
func writeProsodyModules(dir string) error {
	err := fs.WalkDir(prosodyfiles.Modules, "modules", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(path, "modules")))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := prosodyfiles.Modules.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		return fmt.Errorf("servertest: write modules: %w", err)
	}
	return nil
}
