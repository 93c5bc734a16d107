package prosodytest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/xmppconn/xmppconn/testdata/prosody"
)

// configData is what prosody.cfg.lua.tmpl is rendered with.
type configData struct {
	PIDFile, DataDir, ModulesDir, InstallerDir, CertsDir string
	LogFile, LogLevel                                    string
	CertFile, KeyFile                                    string
	C2SPort, HTTPPort, HTTPSPort                         int
	HibernationTime, BOSHMaxInactivity                   int
	Modules                                              []string
	ExtraGlobal, ExtraHost, ExtraMUC, ExtraSections      string
	Instance                                             string
}

var configTemplate = template.Must(template.New("prosody.cfg.lua").
	Funcs(template.FuncMap{"lua": luaString}).
	Option("missingkey=error").
	Parse(prosody.ConfigTemplate))

// renderConfig writes the Prosody configuration for data to path.
func renderConfig(path string, data configData) error {
	var b strings.Builder
	if err := configTemplate.Execute(&b, data); err != nil {
		return fmt.Errorf("prosodytest: render config: %w", err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("prosodytest: write config: %w", err)
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

// writeModules copies the embedded test-only Prosody modules into dir.
func writeModules(dir string) error {
	err := fs.WalkDir(prosody.Modules, "modules", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(path, "modules")))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := prosody.Modules.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		return fmt.Errorf("prosodytest: write modules: %w", err)
	}
	return nil
}
