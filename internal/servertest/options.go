package servertest

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// Options configures a server. A nil *Options, and the zero value of every
// field, mean the defaults. The Prosody part applies to Prosody kinds only and
// the Ejabberd part to ejabberd only: setting the part of another kind is an
// error, so that a test never believes a server runs with something it
// ignored.
type Options struct {
	// ResumeTimeout is how long, in seconds, a XEP-0198 session that lost
	// its connection waits to be resumed (Prosody's
	// smacks_hibernation_time, ejabberd's mod_stream_mgmt resume_timeout).
	// 0 = 60, the value of Jitsi deployments.
	ResumeTimeout int
	// BOSHMaxInactivity is how long, in seconds, a BOSH session lives
	// without a request (Prosody's bosh_max_inactivity, ejabberd's mod_bosh
	// max_inactivity). 0 = 60.
	BOSHMaxInactivity int
	// Log receives the server's whole log when it fails to start, or when
	// Main's run fails; nil = nowhere.
	Log io.Writer
	// StopGrace is how long Stop waits after SIGTERM before SIGKILL; 0 =
	// 5 s for Prosody, 15 s for ejabberd. Prosody takes longer to end
	// thousands of sessions.
	StopGrace time.Duration

	Prosody  ProsodyOptions
	Ejabberd EjabberdOptions
}

// ProsodyOptions is the Prosody-only part of Options: Lua configuration
// added to testdata/prosody/prosody.cfg.lua.tmpl.
type ProsodyOptions struct {
	// Modules are added to modules_enabled (roster, saslauth, disco, ping,
	// bosh, websocket, smacks, http and xmppconn_test are always on).
	Modules []string
	// ExtraGlobal is appended to the global section.
	ExtraGlobal string
	// ExtraHost goes inside VirtualHost "localhost".
	ExtraHost string
	// ExtraMUC goes inside Component "conference.localhost" (e.g. its own
	// modules_enabled).
	ExtraMUC string
	// ExtraSections is appended at the end of the file, after every
	// section: more VirtualHost or Component sections.
	ExtraSections string
}

// EjabberdOptions is the ejabberd-only part of Options: YAML added to
// testdata/ejabberd/ejabberd.yml.tmpl.
type EjabberdOptions struct {
	// PasswordFormat is ejabberd's auth_password_format: "plain" (0 =
	// plain: PLAIN and every SCRAM variant offered, a new salt at every
	// login) or "scram" (keys stored, SCRAM-SHA-1 only, the same salt at
	// every login).
	PasswordFormat string
	// ExtraModules is YAML for more entries of the top-level modules map,
	// indented by two spaces ("  mod_vcard: {}\n").
	ExtraModules string
	// ExtraConfig is YAML appended at the top level.
	ExtraConfig string
}

// Defaults used when an Options field is zero.
const (
	DefaultResumeTimeout     = 60
	DefaultBOSHMaxInactivity = 60
)

// errWrongPart reports options meant for another kind of server.
var errWrongPart = errors.New("servertest: options for another kind of server")

// withDefaults returns a copy of o with every zero field set, checked
// against kind k.
func (o *Options) withDefaults(k Kind) (Options, error) {
	var out Options
	if o != nil {
		out = *o
		out.Prosody.Modules = slices.Clone(o.Prosody.Modules)
	}
	switch {
	case k.IsProsody() && out.Ejabberd != (EjabberdOptions{}):
		return out, fmt.Errorf("%w: ejabberd options given to %s", errWrongPart, k)
	case !k.IsProsody() && !out.Prosody.isZero():
		return out, fmt.Errorf("%w: Prosody options given to %s", errWrongPart, k)
	}
	if out.StopGrace <= 0 {
		out.StopGrace = defaultStopGrace
		if k == Ejabberd {
			out.StopGrace = ejabberdStopGrace
		}
	}
	if out.ResumeTimeout <= 0 {
		out.ResumeTimeout = DefaultResumeTimeout
	}
	if out.BOSHMaxInactivity <= 0 {
		out.BOSHMaxInactivity = DefaultBOSHMaxInactivity
	}
	switch out.Ejabberd.PasswordFormat {
	case "":
		if k == Ejabberd {
			out.Ejabberd.PasswordFormat = "plain"
		}
	case "plain", "scram":
	default:
		return out, fmt.Errorf("servertest: ejabberd password format %q: want plain or scram", out.Ejabberd.PasswordFormat)
	}
	return out, nil
}

func (p ProsodyOptions) isZero() bool {
	return len(p.Modules) == 0 && p.ExtraGlobal == "" && p.ExtraHost == "" && p.ExtraMUC == "" && p.ExtraSections == ""
}
