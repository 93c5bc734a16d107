package prosodytest

import (
	"io"
	"time"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

// Options configures Start: servertest.Options in the words of Prosody. A
// nil *Options, and the zero value of every field, mean the defaults.
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

// servertest returns the same configuration as servertest.Options.
func (o *Options) servertest() *servertest.Options {
	if o == nil {
		return nil
	}
	return &servertest.Options{
		ResumeTimeout:     o.HibernationTime,
		BOSHMaxInactivity: o.BOSHMaxInactivity,
		Log:               o.Log,
		StopGrace:         o.StopGrace,
		Prosody: servertest.ProsodyOptions{
			Modules:       o.Modules,
			ExtraGlobal:   o.ExtraGlobal,
			ExtraHost:     o.ExtraHost,
			ExtraMUC:      o.ExtraMUC,
			ExtraSections: o.ExtraSections,
		},
	}
}
