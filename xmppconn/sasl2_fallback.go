package xmppconn

import (
	"errors"
)

// sasl2Fallback reports whether err is SASL2 left unanswered by a server
// that also offers RFC 6120 SASL.
func sasl2Fallback(err error) bool {
	var na *NoAnswerError
	return errors.As(err, &na) && na.Step == "sasl2" && !na.noSASL1
}

// withoutSASL2 returns a copy of cfg with SASL2 turned off.
func withoutSASL2(cfg *Config) *Config {
	off := *cfg
	off.SASL2.Disabled = true
	return &off
}
