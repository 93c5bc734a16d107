package servertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// CacheEnv is the environment variable that overrides the cache directory
// where `make prosody13` unpacks Prosody 13 (default
// $XDG_CACHE_HOME/xmppconn, or ~/.cache/xmppconn).
const CacheEnv = "XMPPCONN_CACHE"

// CacheDir returns the cache directory shared with the Makefile.
func CacheDir() (string, error) {
	if dir := os.Getenv(CacheEnv); dir != "" {
		return dir, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("servertest: cache directory: %w", err)
	}
	return filepath.Join(dir, "xmppconn"), nil
}

// find locates the server of kind k and returns how to run it and its
// version. A missing server, or one of another version, is ErrNotInstalled
// with how to install the right one.
func find(k Kind) (flavor, string, error) {
	switch k {
	case Prosody12:
		launcher, err := exec.LookPath("prosody")
		if err != nil {
			return nil, "", fmt.Errorf("%w: prosody12: no prosody on PATH: apt-get install prosody prosody-modules (or make prosody)", ErrNotInstalled)
		}
		return findProsody(k, launcher, "0.12.", "apt-get install prosody prosody-modules from Debian bookworm (or make prosody)")
	case Prosody13:
		cache, err := CacheDir()
		if err != nil {
			return nil, "", err
		}
		launcher := filepath.Join(cache, "prosody13", "prosody")
		if _, err := os.Stat(launcher); err != nil {
			return nil, "", fmt.Errorf("%w: prosody13: no %s: make prosody13 fetches it", ErrNotInstalled, launcher)
		}
		return findProsody(k, launcher, "13.", "make prosody13")
	case Ejabberd:
		return findEjabberd()
	}
	return nil, "", fmt.Errorf("servertest: unknown server kind %q", k)
}

// sourceDirLine is the line of a Prosody launcher that says where its Lua
// sources are (the Debian package and `make prosody13` write it so).
var sourceDirLine = regexp.MustCompile(`(?m)^CFG_SOURCEDIR\s*=\s*'([^']+)'`)

// findProsody checks that the launcher runs a Prosody whose version starts
// with prefix, read from prosody.version in its source directory.
func findProsody(k Kind, launcher, prefix, hint string) (flavor, string, error) {
	script, err := os.ReadFile(launcher)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s: %v: %s", ErrNotInstalled, k, err, hint)
	}
	m := sourceDirLine.FindSubmatch(script)
	if m == nil {
		return nil, "", fmt.Errorf("%w: %s: %s sets no CFG_SOURCEDIR: %s", ErrNotInstalled, k, launcher, hint)
	}
	data, err := os.ReadFile(filepath.Join(string(m[1]), "prosody.version"))
	version := strings.TrimSpace(string(data))
	if err != nil || !strings.HasPrefix(version, prefix) {
		return nil, "", fmt.Errorf("%w: %s: %s runs Prosody %q, not %s*: %s", ErrNotInstalled, k, launcher, version, prefix, hint)
	}
	return &prosody{kind: k, launcher: launcher}, version, nil
}

// findEjabberd finds erl and the ejabberd 23 application, which Debian
// installs in /usr/lib/<multiarch>/ejabberd-VERSION.
func findEjabberd() (flavor, string, error) {
	const hint = "apt-get install --no-install-recommends ejabberd from Debian bookworm (or make ejabberd)"
	erl, err := exec.LookPath("erl")
	if err != nil {
		return nil, "", fmt.Errorf("%w: ejabberd: no erl on PATH: %s", ErrNotInstalled, hint)
	}
	apps, _ := filepath.Glob("/usr/lib/*/ejabberd-*/ebin/ejabberd.app")
	if len(apps) == 0 {
		return nil, "", fmt.Errorf("%w: ejabberd: no /usr/lib/*/ejabberd-*/ebin/ejabberd.app: %s", ErrNotInstalled, hint)
	}
	app := filepath.Dir(filepath.Dir(apps[0]))
	version := strings.TrimPrefix(filepath.Base(app), "ejabberd-")
	if !strings.HasPrefix(version, "23.") {
		return nil, "", fmt.Errorf("%w: ejabberd: %s is ejabberd %s, not 23.*: %s", ErrNotInstalled, app, version, hint)
	}
	return &ejabberd{erl: erl, app: app}, version, nil
}

// debugLog reports whether the servers should log at debug level.
func debugLog() bool {
	return os.Getenv("XMPPCONN_SERVER_DEBUG") == "1" || os.Getenv("XMPPCONN_PROSODY_DEBUG") == "1"
}
