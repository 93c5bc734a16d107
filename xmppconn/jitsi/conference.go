package jitsi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// ConferenceOptions are the optional parts of a conference request.
type ConferenceOptions struct {
	// Properties are sent as <property name='…' value='…'/> children, in
	// name order (lib-jitsi-meet sends, for example, "visitors-version",
	// "startAudioMuted", "rtcstatsEnabled").
	Properties map[string]string
}

// Conference is the focus's answer to a conference request.
type Conference struct {
	Room       jid.JID           // the room asked for
	Focus      jid.JID           // the focus the request went to
	FocusJID   string            // the focus's own JID in the room (focusjid), if given
	Ready      bool              // the focus is ready: the room may be joined
	VNode      string            // the visitor node the focus sends the client to, if any
	SessionID  string            // session-id, if given (Jicofo authentication)
	Properties map[string]string // the answer's <property/> children
	Attempts   int               // requests sent, the retries for ready='false' included
}

// VnodeRedirect is the error ConferenceRequest returns when the focus sends
// the client to a visitor node. The library does not follow it: moving to
// VNode is the bot's decision. ConnectionRedirected (kind "vnode") was
// emitted.
type VnodeRedirect struct {
	VNode    string // the visitor node (a domain)
	FocusJID string // the focus that redirected
}

func (e *VnodeRedirect) Error() string {
	return "jitsi: conference request: redirected to visitor node " + e.VNode
}

// ConferenceError reports that the focus answered a conference request
// with an error.
type ConferenceError struct {
	Focus jid.JID
	Room  jid.JID
	Err   *xmppconn.StanzaError // the focus's answer
}

func (e *ConferenceError) Error() string {
	s := "jitsi: conference request for " + e.Room.String() + " refused by " + e.Focus.String() + ": " + string(e.Err.Condition())
	if t := e.Err.Text(); t != "" {
		s += ": " + t
	}
	return s
}

// Unwrap returns the stanza error.
func (e *ConferenceError) Unwrap() error { return e.Err }

// ErrNotLive is the cause of the ConnectionFailed (connection.notLiveError)
// that ends the connection when the focus says the conference is not live.
var ErrNotLive = errors.New("jitsi: conference request: the conference is not live")

// ConferenceRequest asks the focus (Jicofo) to allocate the conference of
// room (a bare room JID), as Jitsi clients do before they join the room:
//
//	<iq type='set' to='focus.DOMAIN'>
//	  <conference xmlns='http://jitsi.org/protocol/focus' room='…' machine-uid='…'>
//	    <property name='…' value='…'/>…
//	  </conference>
//	</iq>
//
// The focus is Config.Focus (default focus.<domain>); machine-uid is
// fixed for the Deployment. The answer decides, as in lib-jitsi-meet:
//
//   - <property name='live' value='false'/>: the connection ends with
//     ConnectionFailed (connection.notLiveError); the error is that
//     events.Failed.
//   - ready='true' with a vnode (attribute or property): ConnectionRedirected
//     (kind "vnode", not followed) is emitted, and ConferenceRequest returns
//     the Conference with a *VnodeRedirect error.
//   - ready='true': the Conference, nil.
//   - ready='false': the request is sent again after 1 s, 2 s, 4 s, … at
//     most 120 s (Config.RetryMin/RetryMax), until ready or ctx ends.
//   - an error: the connection ends with ConnectionFailed
//     (connection.conferenceRequestFailed, or connection.passwordRequired
//     for not-authorized: the room needs an authenticated user); the error
//     is that events.Failed, wrapping a *ConferenceError.
//
// An answer without <conference/> gives a *xmppconn.ProtocolError, and
// leaves the connection up.
func (d *Deployment) ConferenceRequest(ctx context.Context, room jid.JID, opts *ConferenceOptions) (*Conference, error) {
	if opts == nil {
		opts = &ConferenceOptions{}
	}
	if room.Localpart() == "" || room.Resourcepart() != "" {
		return nil, fmt.Errorf("jitsi: conference request: %q is not a bare room JID", room.String())
	}
	focus, err := d.focus()
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		iq := stanza.IQ{ID: newID(), Type: stanza.SetIQ, To: focus}
		answer, err := d.c.SendIQ(ctx, iq, conferenceIQ(room, d.machineUID(), opts.Properties))
		var se *xmppconn.StanzaError
		if errors.As(err, &se) {
			return nil, d.conferenceRefused(focus, room, se)
		}
		if err != nil {
			return nil, fmt.Errorf("jitsi: conference request: %w", err)
		}
		conf, err := parseConference(answer.Raw)
		if err != nil {
			return nil, err
		}
		conf.Room, conf.Focus, conf.Attempts = room, focus, attempt
		if conf.Properties["live"] == "false" {
			f := events.Failed{
				Err:    events.NotLiveError,
				Reason: "the conference is not live",
				Cause:  ErrNotLive,
			}
			d.c.Fail(f)
			return nil, f
		}
		if conf.Ready {
			if conf.VNode == "" {
				return conf, nil
			}
			redirect := &VnodeRedirect{VNode: conf.VNode, FocusJID: conf.FocusJID}
			if redirect.FocusJID == "" {
				redirect.FocusJID = focus.String()
			}
			d.c.Emit(events.Redirected{
				Target:   redirect.VNode,
				Kind:     events.RedirectVnode,
				Followed: false,
				FocusJID: redirect.FocusJID,
			})
			return conf, redirect
		}
		wait := conferenceBackoff(attempt, d.cfg.RetryMin, d.cfg.RetryMax)
		d.log.Debug("jitsi: the focus is not ready", "room", room.String(), "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("jitsi: conference request: %w", ctx.Err())
		}
	}
}

// conferenceRefused ends the connection for an error answer of the focus
// and returns the ConnectionFailed payload.
func (d *Deployment) conferenceRefused(focus, room jid.JID, se *xmppconn.StanzaError) error {
	f := events.Failed{
		Err:     events.ConferenceRequestFailed,
		Reason:  auth.RedactURL(se.Reason()),
		Details: events.Details{Condition: string(se.Condition())},
		Cause:   &ConferenceError{Focus: focus, Room: room, Err: se},
	}
	if se.Condition() == stanza.NotAuthorized {
		f.Err = events.PasswordRequired // the room needs an authenticated user
	}
	d.c.Fail(f)
	return f
}

// focus returns the JID conference requests go to.
func (d *Deployment) focus() (jid.JID, error) {
	if d.cfg.Focus != "" {
		j, err := jid.Parse(d.cfg.Focus)
		if err != nil {
			return jid.JID{}, &xmppconn.ConfigError{Field: "jitsi.Config.Focus", Msg: "not a JID"}
		}
		return j, nil
	}
	domain := d.c.Domain()
	if domain == "" {
		return jid.JID{}, &xmppconn.ConfigError{Field: "jitsi.Config.Focus", Msg: "no domain to derive it from"}
	}
	j, err := jid.New("", "focus."+domain, "")
	if err != nil {
		return jid.JID{}, &xmppconn.ConfigError{Field: "jitsi.Config.Focus", Msg: "focus." + domain + " is not a JID"}
	}
	return j, nil
}

// machineUID returns the machine-uid of the conference requests: the
// configured one, or a random one made on first use.
func (d *Deployment) machineUID() string {
	if d.cfg.MachineUID != "" {
		return d.cfg.MachineUID
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.uid == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		d.uid = hex.EncodeToString(b[:])
	}
	return d.uid
}

// conferenceIQ returns the tokens of the <conference/> payload.
func conferenceIQ(room jid.JID, machineUID string, props map[string]string) xml.TokenReader {
	var children []xml.TokenReader
	for _, name := range slices.Sorted(maps.Keys(props)) {
		children = append(children, element("", "property", attrs("name", name, "value", props[name])))
	}
	return element(nsFocus, "conference", attrs("room", room.String(), "machine-uid", machineUID), children...)
}

// parseConference reads the <conference/> of a serialized IQ result.
func parseConference(elem []byte) (*Conference, error) {
	var v struct {
		Conference *struct {
			Ready      string `xml:"ready,attr"`
			VNode      string `xml:"vnode,attr"`
			FocusJID   string `xml:"focusjid,attr"`
			SessionID  string `xml:"session-id,attr"`
			Properties []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"property"`
		} `xml:"http://jitsi.org/protocol/focus conference"`
	}
	if err := xml.Unmarshal(elem, &v); err != nil {
		return nil, &xmppconn.ProtocolError{Step: "conference request", Msg: "malformed answer", Err: err}
	}
	if v.Conference == nil {
		return nil, &xmppconn.ProtocolError{Step: "conference request", Msg: "answer without <conference/>"}
	}
	conf := &Conference{
		Ready:      v.Conference.Ready == "true" || v.Conference.Ready == "1",
		VNode:      v.Conference.VNode,
		FocusJID:   v.Conference.FocusJID,
		SessionID:  v.Conference.SessionID,
		Properties: map[string]string{},
	}
	for _, p := range v.Conference.Properties {
		if p.Name != "" {
			conf.Properties[p.Name] = p.Value
		}
	}
	if conf.VNode == "" {
		conf.VNode = conf.Properties["vnode"]
	}
	return conf, nil
}

// conferenceBackoff returns the wait before retrying after the attempt-th
// ready='false' answer: lo, 2·lo, 4·lo, … capped at hi (defaults 1 s and
// 120 s).
func conferenceBackoff(attempt int, lo, hi time.Duration) time.Duration {
	d := min(lo, hi)
	for i := 1; i < attempt && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// element returns the tokens of <local xmlns=space attr...>children</local>.
// An empty space inherits the namespace of the parent.
func element(space, local string, attr []xml.Attr, children ...xml.TokenReader) xml.TokenReader {
	return xmlstream.Wrap(xmlstream.MultiReader(children...), xml.StartElement{
		Name: xml.Name{Space: space, Local: local},
		Attr: attr,
	})
}

// attrs builds unqualified attributes from name, value pairs, leaving out
// those whose value is empty.
func attrs(pairs ...string) []xml.Attr {
	out := make([]xml.Attr, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			out = append(out, xml.Attr{Name: xml.Name{Local: pairs[i]}, Value: pairs[i+1]})
		}
	}
	return out
}
