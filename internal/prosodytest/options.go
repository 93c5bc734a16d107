package prosodytest

import (
	"io"
	"time"
)

// Options configures Start. A nil *Options, and the zero value of every field,
// mean the defaults.
type Options struct {
	Modules         []string  // extra modules_enabled (roster, saslauth, disco, ping, bosh, websocket, smacks, http are always on)
	ExtraGlobal     string    // extra Lua config appended to the global section
	ExtraHost       string    // extra Lua config inside VirtualHost Domain
	HibernationTime int       // smacks_hibernation_time in seconds; 0 = 60 (Jitsi's value)
	Log             io.Writer // where to copy prosody's log on failure; nil = none

	// BOSHMaxInactivity is bosh_max_inactivity in seconds; 0 = 60 (Prosody's default).
	BOSHMaxInactivity int
	// ExtraMUC is extra Lua config inside Component MUCDomain (e.g. its own
	// modules_enabled).
	ExtraMUC string
	// ExtraSections is Lua appended at the end of the file, after every
	// section: more VirtualHost or Component sections.
	ExtraSections string
	// StopGrace is how long Stop waits after SIGTERM before SIGKILL; 0 =
	// 5 s. Prosody takes longer to end thousands of sessions.
	StopGrace time.Duration
}

// Defaults used when an Options field is zero.
const (
	DefaultHibernationTime   = 60
	DefaultBOSHMaxInactivity = 60
)

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
		out.Modules = append([]string(nil), o.Modules...)
	}
	if out.StopGrace <= 0 {
		out.StopGrace = stopGrace
	}
	if out.HibernationTime <= 0 {
		out.HibernationTime = DefaultHibernationTime
	}
	if out.BOSHMaxInactivity <= 0 {
		out.BOSHMaxInactivity = DefaultBOSHMaxInactivity
	}
	return out
}
