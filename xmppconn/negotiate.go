package xmppconn

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
	"mellium.im/xmpp/stream"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/transport"
)

// features is what the session layer reads of <stream:features/>.
type features struct {
	XMLName    xml.Name  `xml:"http://etherx.jabber.org/streams features"`
	Mechanisms []string  `xml:"urn:ietf:params:xml:ns:xmpp-sasl mechanisms>mechanism"`
	Bind       *struct{} `xml:"urn:ietf:params:xml:ns:xmpp-bind bind"`
	Session    *struct {
		Optional *struct{} `xml:"optional"`
	} `xml:"urn:ietf:params:xml:ns:xmpp-session session"`
	SM *struct{} `xml:"urn:xmpp:sm:3 sm"`
	// ChannelBinding is the XEP-0440 list of channel-binding types.
	ChannelBinding *struct {
		Types []struct {
			Type string `xml:"type,attr"`
		} `xml:"channel-binding"`
	} `xml:"urn:xmpp:sasl-cb:0 sasl-channel-binding"`
	// SASL2 is the XEP-0388 <authentication/> feature.
	SASL2 *sasl2Feature `xml:"urn:xmpp:sasl:2 authentication"`
}

// negotiated is the outcome of a successful negotiation.
type negotiated struct {
	header   transport.Header
	jid      jid.JID
	features features // of the restarted stream
	early    [][]byte // stanzas that arrived before the bind result

	resumed  bool       // the XEP-0198 session was resumed (no bind)
	resumedH uint32     // the server's h in <resumed/>
	sm       bool       // <enable/> was sent behind the bind request, or enabled inline
	enabled  *smEnabled // the <enabled/> of an inline enable (Bind 2), if any
}

// resumeReq asks the negotiator to resume an XEP-0198 session instead of
// binding a new resource.
type resumeReq struct {
	previd string
	h      uint32
	jid    jid.JID // the full JID of the session being resumed
}

// negotiator runs one stream negotiation over a transport.Conn: features,
// SASL, restart, bind. It is shared by every transport.
type negotiator struct {
	conn      transport.Conn
	cfg       *Config
	domain    string
	resource  string              // the resource to ask for at bind time
	resume    *resumeReq          // try <resume/> first when set
	stepTO    time.Duration       // bound on each wait for the server (steps.go)
	redact    func(string) string // removes the account's secrets from server text (redact.go)
	log       *slog.Logger
	early     [][]byte
	earlySize int        // bytes of early, with the overhead of each
	agentID   string     // the SASL2 user agent id of the Connection
	fast      *fastState // the Connection's XEP-0484 token; nil: no FAST
	features  *featuresMemo
	bounds    *deadlines // the Connection's, for within (steps.go)
	jids      *jidMemo   // the Connection's; nil: no memo

	// rec records the attempt's phases and what the server offered
	// (phases.go); a nil one records nothing.
	rec *attemptRecord
}

// readNonStanza reads the next element that is not a stanza, keeping
// stanzas for delivery once the session is up. A stream error ends the
// negotiation with that error.
func (n *negotiator) readNonStanza(ctx context.Context) ([]byte, root, error) {
	for {
		elem, err := n.conn.ReadElement(ctx)
		if err != nil {
			return nil, root{}, err
		}
		r, err := rootOf(elem)
		if err != nil {
			return nil, root{}, &ProtocolError{Step: "read", Msg: "malformed element", Err: err}
		}
		// Names only: SASL elements carry credentials.
		n.log.Debug("xmppconn: negotiation read", "name", r.Name.Local, "ns", r.Name.Space)
		switch {
		case r.isStanza():
			if err := n.keepEarly(elem); err != nil {
				return nil, root{}, err
			}
			continue
		case r.is(nsStream, "error"):
			return nil, r, n.streamError(elem)
		}
		return elem, r, nil
	}
}

// keepEarly keeps a stanza that came during negotiation, for delivery once
// the session is up, within Config.InboundLimit.
func (n *negotiator) keepEarly(elem []byte) error {
	n.earlySize += cap(elem) + elementOverhead
	if n.earlySize > n.cfg.InboundLimit {
		return &transport.LimitError{What: "stanzas before the session is up", Limit: n.cfg.InboundLimit}
	}
	n.early = append(n.early, elem)
	return nil
}

// streamError is parseStreamError with the texts redacted.
func (n *negotiator) streamError(elem []byte) error {
	err := parseStreamError(elem)
	if se, ok := err.(stream.Error); ok {
		return redactStreamError(se, n.redact)
	}
	return err
}

// parseStreamError turns a serialized <stream:error/> into a stream.Error.
func parseStreamError(elem []byte) error {
	var se stream.Error
	if err := xml.Unmarshal(elem, &se); err != nil {
		return &ProtocolError{Step: "stream error", Msg: "malformed stream error", Err: err}
	}
	if se.Err == "" {
		se.Err = "undefined-condition"
	}
	return se
}

func (n *negotiator) readFeatures(ctx context.Context) (features, error) {
	elem, r, err := n.readNonStanza(ctx)
	if err != nil {
		return features{}, err
	}
	if !r.is(nsStream, "features") {
		return features{}, &ProtocolError{Step: "features", Msg: "expected <stream:features/>, got <" + r.Name.Local + "/>"}
	}
	f, err := n.features.decode(elem)
	if err != nil {
		return features{}, &ProtocolError{Step: "features", Msg: "malformed features", Err: err}
	}
	return f, nil
}

func (n *negotiator) write(ctx context.Context, elem string) error {
	return n.conn.WriteElement(ctx, []byte(elem))
}

// run negotiates the session up to a bound resource.
func (n *negotiator) run(ctx context.Context) (*negotiated, error) {
	hdr, err := n.open(ctx, false)
	if err != nil {
		return nil, err
	}
	f, err := n.featuresWithin(ctx)
	if err != nil {
		return nil, err
	}
	n.rec.offer(&f)
	n.rec.saslStep()
	if n.useSASL2(f) {
		return n.runSASL2(ctx, hdr, f)
	}
	if len(f.Mechanisms) == 0 {
		return nil, &ProtocolError{Step: "sasl", Msg: "server offers no SASL mechanism"}
	}
	if err := n.sasl(ctx, f); err != nil {
		return nil, err
	}
	hdr, err = n.open(ctx, true)
	if err != nil {
		return nil, err
	}
	f, err = n.featuresWithin(ctx)
	if err != nil {
		return nil, err
	}
	return n.bindSession(ctx, hdr, f)
}

// bindSession brings an authenticated stream, whose features are f, to a
// session: the resumption of the XEP-0198 session when asked for, else a
// resource bind with <enable/> sent behind it.
func (n *negotiator) bindSession(ctx context.Context, hdr transport.Header, f features) (*negotiated, error) {
	n.rec.offer(&f)
	if n.resume != nil && f.SM != nil {
		n.rec.mark(idResume, 0)
		ok, h, err := n.tryResume(ctx)
		if err != nil {
			return nil, err
		}
		if ok {
			return &negotiated{header: hdr, jid: n.resume.jid, features: f, early: n.early, resumed: true, resumedH: h}, nil
		}
		// The server could not resume: bind a new session on this stream.
	}
	if f.Bind == nil {
		return nil, &ProtocolError{Step: "bind", Msg: "server offers no resource binding"}
	}
	n.rec.mark(idBind, 0)
	j, err := n.bind(ctx)
	if err != nil {
		return nil, err
	}
	// The session exists: what follows needs no answer before it goes
	// live. Over BOSH the long-poll leaves now, ahead of the <enable/>, so
	// that the server answers on it and keeps a request to push on.
	if nt, ok := n.conn.(transport.Negotiator); ok {
		nt.Negotiated()
	}
	sm := f.SM != nil && !n.cfg.StreamManagement.Disabled
	if sm {
		// Sent right behind the bind result, without waiting for <enabled/>:
		// the processor takes the answer, and a refusal keeps the session.
		if err := n.write(ctx, smEnable); err != nil {
			return nil, err
		}
		n.rec.smEnableSent()
	}
	if f.Session != nil && f.Session.Optional == nil {
		// RFC 3921 session establishment, still required by a few servers.
		n.rec.mark(idSession, 0)
		if err := n.legacySession(ctx); err != nil {
			return nil, err
		}
	}
	return &negotiated{header: hdr, jid: j, features: f, early: n.early, sm: sm}, nil
}

// tryResume sends <resume/> and reports whether the server resumed, with
// its h. A <failed/> answer is not an error: the caller binds instead.
func (n *negotiator) tryResume(ctx context.Context) (ok bool, h uint32, err error) {
	if err := n.conn.WriteElement(ctx, smResume(n.resume.previd, n.resume.h)); err != nil {
		return false, 0, err
	}
	defer func() {
		if err != nil {
			err = &ResumeError{Err: err}
		}
	}()
	// A server that cannot resume should say <failed/>; one that says
	// nothing (Prosody fails inside its BOSH resumption) must not hold the
	// attempt for long.
	type answer struct {
		ok bool
		h  uint32
	}
	a, err := within(ctx, n, "resume", "<resumed/> or <failed/>", func(ctx context.Context) (answer, error) {
		for {
			_, r, err := n.readNonStanza(ctx)
			if err != nil {
				return answer{}, err
			}
			if r.Name.Space != nsSM {
				continue
			}
			switch r.Name.Local {
			case "resumed":
				h, err := parseH(r.attr("h"))
				return answer{err == nil, h}, err
			case "failed":
				return answer{}, nil
			}
		}
	})
	return a.ok, a.h, err
}

// sasl authenticates (RFC 6120 §6).
func (n *negotiator) sasl(ctx context.Context, f features) error {
	ex, err := auth.NewExchange(f.Mechanisms, n.cfg.Credentials, n.policy(f))
	if err != nil {
		return err
	}
	n.rec.chose(ex.Mechanism(), false)
	initial, err := ex.Start()
	if err != nil {
		return err
	}
	var payload string
	switch {
	case initial == nil:
	case len(initial) == 0:
		payload = "=" // RFC 6120 §6.4.2: an empty initial response
	default:
		payload = base64.StdEncoding.EncodeToString(initial)
	}
	if err := n.write(ctx, fmt.Sprintf("<auth xmlns='%s' mechanism='%s'>%s</auth>", nsSASL, ex.Mechanism(), payload)); err != nil {
		return err
	}
	waiting := "answer to <auth/>"
	for {
		type read struct {
			elem []byte
			r    root
		}
		rd, err := within(ctx, n, "sasl", waiting, func(ctx context.Context) (read, error) {
			elem, r, err := n.readNonStanza(ctx)
			return read{elem, r}, err
		})
		if err != nil {
			return err
		}
		elem, r := rd.elem, rd.r
		if r.Name.Space != nsSASL {
			return &ProtocolError{Step: "sasl", Msg: "unexpected <" + r.Name.Local + "/> during authentication"}
		}
		switch r.Name.Local {
		case "challenge":
			n.rec.saslStep()
			data, err := saslData(elem)
			if err != nil {
				return err
			}
			resp, err := ex.Step(data)
			if err != nil {
				return err
			}
			if err := n.write(ctx, fmt.Sprintf("<response xmlns='%s'>%s</response>", nsSASL, base64.StdEncoding.EncodeToString(resp))); err != nil {
				return err
			}
			waiting = "answer to <response/>"
		case "success":
			data, err := saslData(elem)
			if err != nil {
				return err
			}
			return ex.Finish(data)
		case "failure":
			fe, err := auth.ParseFailure(elem)
			if err != nil {
				return &ProtocolError{Step: "sasl", Msg: "malformed failure", Err: err}
			}
			return n.redactFailure(fe)
		default:
			return &ProtocolError{Step: "sasl", Msg: "unexpected <" + r.Name.Local + "/>"}
		}
	}
}

// policy is the SASL mechanism policy for a stream with features f.
func (n *negotiator) policy(f features) auth.Policy {
	pol := auth.Policy{AllowPlain: n.cfg.AllowPlain, Mechanisms: n.cfg.Mechanisms}
	if !n.cfg.SCRAMKeys.Disabled {
		pol.SCRAMKeys = n.cfg.SCRAMKeys.Cache
	}
	if st, ok := n.conn.ConnectionState(); ok {
		pol.TLS = &st
	}
	if cb := f.ChannelBinding; cb != nil {
		pol.ChannelBindings = []string{}
		for _, t := range cb.Types {
			pol.ChannelBindings = append(pol.ChannelBindings, t.Type)
		}
	}
	return pol
}

// saslData decodes the base64 content of a SASL element ("=" is empty).
func saslData(elem []byte) ([]byte, error) {
	text, ok := saslText(elem)
	if !ok {
		var v struct {
			Text []byte `xml:",chardata"`
		}
		if err := xml.Unmarshal(elem, &v); err != nil {
			return nil, &ProtocolError{Step: "sasl", Msg: "malformed element", Err: err}
		}
		text = v.Text
	}
	if len(text) == 0 || string(text) == "=" {
		return nil, nil
	}
	data, err := base64.StdEncoding.AppendDecode(nil, text)
	if err != nil {
		return nil, &ProtocolError{Step: "sasl", Msg: "bad base64 in server data", Err: err}
	}
	return data, nil
}

// iqResult waits for the answer to the IQ with id, keeping other stanzas,
// bounded like every wait for the server.
func (n *negotiator) iqResult(ctx context.Context, id, step string) ([]byte, error) {
	return within(ctx, n, step, "result of the "+step+" request", func(ctx context.Context) ([]byte, error) {
		return n.iqAnswer(ctx, id, step)
	})
}

// iqAnswer reads until the answer to the IQ with id.
func (n *negotiator) iqAnswer(ctx context.Context, id, step string) ([]byte, error) {
	for {
		elem, err := n.conn.ReadElement(ctx)
		if err != nil {
			return nil, err
		}
		r, err := rootOf(elem)
		if err != nil {
			return nil, &ProtocolError{Step: step, Msg: "malformed element", Err: err}
		}
		switch {
		case r.is(stanza.NSClient, "iq") && r.attr("id") == id:
			return elem, nil
		case r.isStanza():
			// Jitsi's Prosody pushes its properties from inside binding:
			// keep the stanza and deliver it once the session is up.
			if err := n.keepEarly(elem); err != nil {
				return nil, err
			}
		case r.is(nsStream, "error"):
			return nil, n.streamError(elem)
		default:
			// A stray stream-level element (a late second <features/>, an
			// SM request) is not an answer; skip it.
		}
	}
}

// bind binds a resource (RFC 6120 §7) and returns the full JID.
func (n *negotiator) bind(ctx context.Context) (jid.JID, error) {
	id := newID()
	res := ""
	if n.resource != "" {
		res = "<resource>" + xmlEscape(n.resource) + "</resource>"
	}
	if err := n.write(ctx, fmt.Sprintf("<iq xmlns='jabber:client' type='set' id='%s'><bind xmlns='%s'>%s</bind></iq>", id, nsBind, res)); err != nil {
		return jid.JID{}, err
	}
	elem, err := n.iqResult(ctx, id, "bind")
	if err != nil {
		return jid.JID{}, err
	}
	var v struct {
		Type string `xml:"type,attr"`
		JID  string `xml:"urn:ietf:params:xml:ns:xmpp-bind bind>jid"`
	}
	if err := xml.Unmarshal(elem, &v); err != nil {
		return jid.JID{}, &ProtocolError{Step: "bind", Msg: "malformed bind result", Err: err}
	}
	switch v.Type {
	case "result":
	case "error":
		se, err := ParseStanzaError(elem)
		if err != nil {
			return jid.JID{}, err
		}
		return jid.JID{}, &BindError{Err: redactStanzaError(se, n.redact)}
	default:
		return jid.JID{}, &ProtocolError{Step: "bind", Msg: "bind answer of type " + v.Type}
	}
	j, err := jid.Parse(v.JID)
	if err != nil {
		return jid.JID{}, &ProtocolError{Step: "bind", Msg: "server bound an invalid JID", Err: err}
	}
	if j.Resourcepart() == "" {
		return jid.JID{}, &ProtocolError{Step: "bind", Msg: "server bound a JID without resource"}
	}
	return j, nil
}

// legacySession sends the RFC 3921 session request.
func (n *negotiator) legacySession(ctx context.Context) error {
	id := newID()
	if err := n.write(ctx, fmt.Sprintf("<iq xmlns='jabber:client' type='set' id='%s'><session xmlns='%s'/></iq>", id, nsSession)); err != nil {
		return err
	}
	elem, err := n.iqResult(ctx, id, "session")
	if err != nil {
		return err
	}
	r, _ := rootOf(elem)
	if r.attr("type") != "result" {
		return &ProtocolError{Step: "session", Msg: "session establishment refused"}
	}
	return nil
}

// streamFrom returns the from of the stream header to send over an
// endpoint with scheme (ws, wss, http, https) to domain: the account's bare
// JID when the stream is protected by TLS (wss, https) and the account is
// known (a username, no token), else "". RFC 6120 §4.7.1 asks a client to
// name itself so on a protected stream (and Prosody's mod_sasl2_fast offers
// FAST only to a stream that does); on an unprotected one it would show the
// account to anyone on the path.
func (c *Config) streamFrom(scheme, domain string) string {
	switch {
	case scheme != "wss" && scheme != "https":
		return ""
	case c.Credentials.Anonymous() || c.Token != nil || domain == "":
		return ""
	}
	j, err := jid.New(c.Credentials.Username, domain, "")
	if err != nil {
		return ""
	}
	return j.String()
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
