package xmppconn

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"strings"

	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/transport"
)

// Namespaces of XEP-0388 (SASL2) and XEP-0386 (Bind 2).
const (
	nsSASL2 = "urn:xmpp:sasl:2"
	nsBind2 = "urn:xmpp:bind:0"
)

// DefaultBind2Tag is the Bind 2 tag sent when SASL2Config.Tag is empty.
const DefaultBind2Tag = "xmppconn"

// userAgentSoftware is the <software/> of the SASL2 user agent.
const userAgentSoftware = "xmppconn"

// SASL2Config configures XEP-0388 (Extensible SASL Profile) with XEP-0386
// (Bind 2) and stream management negotiated inline. When the server offers
// SASL2, the client authenticates, binds a resource and enables (or
// resumes) stream management in one exchange, without a stream restart:
// two round trips fewer than RFC 6120 SASL and bind. The zero value uses
// SASL2 when it is offered.
//
// Each wait for the server's next SASL2 element is bounded by
// Config.Ping.Timeout. A server that leaves one unanswered (a broken SASL2
// module) costs that bound once: the same attempt negotiates again at once
// with RFC 6120 SASL on a fresh transport, without any extra event, and the
// Connection uses RFC 6120 SASL on every later stream (ErrSASL2NoAnswer).
type SASL2Config struct {
	// Disabled makes the client use RFC 6120 SASL, a stream restart and
	// a resource bind even when the server offers SASL2 (for servers whose
	// SASL2 is broken).
	Disabled bool
	// Tag is the Bind 2 <tag/>: a name for the client, which the server
	// uses as the start of the resource it assigns. Default: "xmppconn".
	// With Config.Resource set, Bind 2 is not used (it cannot ask for an
	// exact resource): the client binds after SASL2 as after SASL.
	Tag string
	// FAST configures XEP-0484 tokens. Zero: used when the server offers
	// them, kept in memory for the Connection.
	FAST FASTConfig
}

// sasl2Feature is the <authentication xmlns='urn:xmpp:sasl:2'/> stream
// feature.
type sasl2Feature struct {
	Mechanisms []string `xml:"urn:xmpp:sasl:2 mechanism"`
	Inline     struct {
		Bind *struct {
			Inline struct {
				Features []struct {
					Var string `xml:"var,attr"`
				} `xml:"feature"`
			} `xml:"inline"`
		} `xml:"urn:xmpp:bind:0 bind"`
		SM   *struct{} `xml:"urn:xmpp:sm:3 sm"`
		FAST *struct {
			Mechanisms []string `xml:"mechanism"`
		} `xml:"urn:xmpp:fast:0 fast"`
	} `xml:"urn:xmpp:sasl:2 inline"`
}

// bind2Offers reports whether Bind 2 is offered with the inline feature v.
func (s *sasl2Feature) bind2Offers(v string) bool {
	if s.Inline.Bind == nil {
		return false
	}
	for _, f := range s.Inline.Bind.Inline.Features {
		if f.Var == v {
			return true
		}
	}
	return false
}

// sasl2Success is what the client reads of <success xmlns='urn:xmpp:sasl:2'/>.
type sasl2Success struct {
	AdditionalData *string `xml:"urn:xmpp:sasl:2 additional-data"`
	AuthzID        string  `xml:"urn:xmpp:sasl:2 authorization-identifier"`
	Bound          *struct {
		Enabled *smEnabled `xml:"urn:xmpp:sm:3 enabled"`
		Failed  *struct{}  `xml:"urn:xmpp:sm:3 failed"`
	} `xml:"urn:xmpp:bind:0 bound"`
	BindFailed *struct {
		Error stanza.Error `xml:"error"`
	} `xml:"urn:xmpp:bind:0 failed"`
	Resumed *struct {
		H string `xml:"h,attr"`
	} `xml:"urn:xmpp:sm:3 resumed"`
	ResumeFailed *struct{} `xml:"urn:xmpp:sm:3 failed"`
	Token        *struct {
		Expiry string `xml:"expiry,attr"`
		Token  string `xml:"token,attr"`
	} `xml:"urn:xmpp:fast:0 token"`
}

// smEnabled is an XEP-0198 <enabled/>.
type smEnabled struct {
	ID     string `xml:"id,attr"`
	Resume string `xml:"resume,attr"`
}

func (e *smEnabled) resumable() bool { return e.Resume == "true" || e.Resume == "1" }

// newUserAgentID returns a random (version 4) UUID: the XEP-0388 user agent
// id of a Connection, the same for all its streams, so that a server can
// recognise the client on reconnection (and give Bind 2 the same resource).
func newUserAgentID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// useSASL2 reports whether to authenticate with SASL2 on features f: it is
// offered, not disabled, and offers a mechanism the policy accepts (else
// RFC 6120 SASL is used when it is offered, with its own mechanisms).
func (n *negotiator) useSASL2(f features) bool {
	if f.SASL2 == nil || len(f.SASL2.Mechanisms) == 0 || n.cfg.SASL2.Disabled {
		return false
	}
	if len(f.Mechanisms) == 0 {
		return true // nothing to fall back to: let SASL2 report the error
	}
	_, err := auth.Choose(f.SASL2.Mechanisms, n.cfg.Credentials, n.policy(f))
	return err == nil
}

// sasl2Plan is what the client asks for inline in <authenticate/>.
type sasl2Plan struct {
	bind   bool // Bind 2
	enable bool // XEP-0198 <enable/> inside the Bind 2 request
	resume bool // XEP-0198 <resume/>
}

func (n *negotiator) sasl2Plan(f *sasl2Feature) sasl2Plan {
	var p sasl2Plan
	p.resume = n.resume != nil && f.Inline.SM != nil
	// A resumption that cannot ride inline is tried after <success/>, on
	// the features that follow it: a Bind 2 bind would end the session to
	// resume.
	p.bind = f.Inline.Bind != nil && n.cfg.Resource == "" && (n.resume == nil || p.resume)
	p.enable = p.bind && !n.cfg.StreamManagement.Disabled && f.bind2Offers(nsSM)
	return p
}

// authenticateElement builds <authenticate/>: the mechanism and its initial
// response, the user agent, the XEP-0484 elements of fp, and the inline
// requests of p (resume is the session <resume/> asks for).
func (n *negotiator) authenticateElement(mech string, initial []byte, p sasl2Plan, resume *resumeReq, fp sasl2FAST) []byte {
	var b strings.Builder
	b.WriteString("<authenticate xmlns='" + nsSASL2 + "' mechanism='" + xmlEscape(mech) + "'>")
	if initial != nil {
		b.WriteString("<initial-response>")
		if len(initial) == 0 {
			b.WriteString("=")
		} else {
			b.WriteString(base64.StdEncoding.EncodeToString(initial))
		}
		b.WriteString("</initial-response>")
	}
	b.WriteString("<user-agent id='" + xmlEscape(n.userAgent()) + "'><software>" + userAgentSoftware + "</software></user-agent>")
	switch {
	case fp.use != nil:
		b.WriteString("<fast xmlns='" + auth.NSFAST + "'/>")
	case fp.request != "":
		b.WriteString("<request-token xmlns='" + auth.NSFAST + "' mechanism='" + xmlEscape(fp.request) + "'/>")
	}
	if p.resume {
		b.Write(smResume(resume.previd, resume.h))
	}
	if p.bind {
		b.WriteString("<bind xmlns='" + nsBind2 + "'><tag>" + xmlEscape(n.cfg.SASL2.Tag) + "</tag>")
		if p.enable {
			b.WriteString(smEnable)
		}
		b.WriteString("</bind>")
	}
	b.WriteString("</authenticate>")
	return []byte(b.String())
}

// userAgent returns the XEP-0388 user agent id to present: the one a FAST
// token is bound to, else the Connection's own.
func (n *negotiator) userAgent() string {
	if n.fast != nil {
		return n.fast.agent()
	}
	return n.agentID
}

// runSASL2 negotiates the session with SASL2 on the stream opened with hdr,
// whose features are f: authentication (with a FAST token when the
// Connection holds one the server may take, else with the password), and
// inline the resumption of the XEP-0198 session (when asked for), else a
// Bind 2 bind with stream management enabled. When the server did neither,
// the session is bound as after RFC 6120 SASL, on the features it sends
// after <success/>.
func (n *negotiator) runSASL2(ctx context.Context, hdr transport.Header, f features) (_ *negotiated, err error) {
	defer func() {
		var na *NoAnswerError
		if len(f.Mechanisms) == 0 && errors.As(err, &na) {
			na.noSASL1 = true // nothing to fall back to
		}
	}()
	pol := n.policy(f)
	plan := n.sasl2Plan(f.SASL2)
	resume := n.resume
	if plan.resume {
		// The answer to <resume/> rides in <success/>; a failed resumption
		// does not get another try on this stream.
		n.resume = nil
	}
	fp := n.fastPlan(f.SASL2, pol)
	var succ *sasl2Success
	var ex *auth.Exchange
	if fp.use != nil {
		succ, ex, err = n.loginFAST(ctx, plan, resume, fp, pol)
		if err != nil {
			return nil, err
		}
		if succ == nil { // refused: the password, on this stream
			fp.use, fp.request = nil, auth.ChooseFAST(f.SASL2.Inline.FAST.Mechanisms, pol)
		}
	}
	if succ == nil {
		ex, err = auth.NewExchange(f.SASL2.Mechanisms, n.cfg.Credentials, pol)
		if err != nil {
			return nil, err
		}
		if succ, err = n.sasl2Exchange(ctx, ex, plan, resume, fp); err != nil {
			return nil, err
		}
	}
	n.keepToken(fp, succ)
	n.log.Debug("xmppconn: authenticated with SASL2", "mechanism", ex.Mechanism(),
		"bound", succ.Bound != nil, "resumed", succ.Resumed != nil)
	return n.afterSASL2(ctx, hdr, f, plan, resume, succ)
}

// loginFAST logs in with the token of fp. A token the server refuses (any
// SASL failure) is dropped, and loginFAST returns no success and no error:
// the caller logs in with the password on the same stream. A server whose
// proof is wrong fails the attempt (it may not be the server that issued
// the token); the token is dropped too.
func (n *negotiator) loginFAST(ctx context.Context, plan sasl2Plan, resume *resumeReq, fp sasl2FAST, pol auth.Policy) (*sasl2Success, *auth.Exchange, error) {
	ex, err := auth.NewFASTExchange(n.cfg.Credentials, *fp.use, pol)
	if err != nil {
		n.log.Debug("xmppconn: FAST token not usable, logging in with the password", "err", err)
		n.fast.drop()
		return nil, nil, nil
	}
	succ, err := n.sasl2Exchange(ctx, ex, plan, resume, fp)
	var fe *auth.FailureError
	switch {
	case errors.As(err, &fe):
		n.log.Debug("xmppconn: FAST token refused, logging in with the password",
			"mechanism", ex.Mechanism(), "condition", fe.Condition, "text", fe.Text)
		n.fast.drop()
		return nil, nil, nil
	case errors.Is(err, auth.ErrServerSignature):
		n.fast.drop()
	}
	return succ, ex, err
}

// sasl2Exchange sends <authenticate/> for ex and runs the exchange to
// <success/>, which it returns. A <failure/> is a *auth.FailureError.
func (n *negotiator) sasl2Exchange(ctx context.Context, ex *auth.Exchange, plan sasl2Plan, resume *resumeReq, fp sasl2FAST) (*sasl2Success, error) {
	n.rec.chose(ex.Mechanism(), true)
	initial, err := ex.Start()
	if err != nil {
		return nil, err
	}
	if err := n.conn.WriteElement(ctx, n.authenticateElement(ex.Mechanism(), initial, plan, resume, fp)); err != nil {
		return nil, err
	}
	what := "<authenticate/>"
	for {
		elem, r, err := n.readSASL2(ctx, plan.resume, what)
		if err != nil {
			return nil, err
		}
		if r.Name.Space != nsSASL2 {
			return nil, &ProtocolError{Step: "sasl2", Msg: "unexpected <" + r.Name.Local + "/> during authentication"}
		}
		switch r.Name.Local {
		case "challenge":
			n.rec.saslStep()
			data, err := saslData(elem)
			if err != nil {
				return nil, err
			}
			resp, err := ex.Step(data)
			if err != nil {
				return nil, err
			}
			if err := n.write(ctx, "<response xmlns='"+nsSASL2+"'>"+base64.StdEncoding.EncodeToString(resp)+"</response>"); err != nil {
				return nil, err
			}
			what = "<response/>"
		case "success":
			succ, err := decodeSuccess(elem)
			if err != nil {
				return nil, &ProtocolError{Step: "sasl2", Msg: "malformed success", Err: err}
			}
			var data []byte
			if succ.AdditionalData != nil {
				if data, err = decodeSASLText(*succ.AdditionalData); err != nil {
					return nil, err
				}
			}
			if err := ex.Finish(data); err != nil {
				return nil, err
			}
			return succ, nil
		case "failure":
			fe, err := auth.ParseFailure(elem)
			if err != nil {
				return nil, &ProtocolError{Step: "sasl2", Msg: "malformed failure", Err: err}
			}
			return nil, n.redactFailure(fe)
		case "continue":
			return nil, n.refuseContinue(ctx, elem)
		default:
			return nil, &ProtocolError{Step: "sasl2", Msg: "unexpected <" + r.Name.Local + "/>"}
		}
	}
}

// afterSASL2 turns a verified <success/> into the negotiated session.
func (n *negotiator) afterSASL2(ctx context.Context, hdr transport.Header, f features, plan sasl2Plan, resume *resumeReq, succ *sasl2Success) (*negotiated, error) {
	if succ.Resumed != nil {
		if !plan.resume {
			return nil, &ProtocolError{Step: "sasl2", Msg: "server resumed a session the client did not ask for"}
		}
		h, err := parseH(succ.Resumed.H)
		if err != nil {
			return nil, err
		}
		return &negotiated{header: hdr, jid: resume.jid, features: f, early: n.early, resumed: true, resumedH: h}, nil
	}
	if succ.ResumeFailed != nil {
		n.log.Debug("xmppconn: inline resumption failed, fresh session")
	}
	if succ.BindFailed != nil {
		return nil, &BindError{Err: redactStanzaError(&StanzaError{Err: succ.BindFailed.Error}, n.redact)}
	}
	if succ.Bound != nil {
		if !plan.bind {
			return nil, &ProtocolError{Step: "sasl2", Msg: "server bound a resource the client did not ask for"}
		}
		j, err := n.jids.parse(succ.AuthzID)
		if err != nil {
			return nil, &ProtocolError{Step: "sasl2", Msg: "malformed success: invalid authorization identifier", Err: err}
		}
		if j.Resourcepart() == "" {
			return nil, &ProtocolError{Step: "sasl2", Msg: "malformed success: bound without a full JID"}
		}
		n.rec.boundInline()
		neg := &negotiated{header: hdr, jid: j, features: f, early: n.early}
		if e := succ.Bound.Enabled; e != nil && plan.enable {
			neg.sm, neg.enabled = true, e
		}
		return neg, nil
	}
	// Authenticated, not bound (no Bind 2, or the server ignored it): the
	// server sends the features of the authenticated stream, with
	// resource binding, and the client binds as after RFC 6120 SASL.
	n.rec.mark(idBind, 0)
	f2, err := within(ctx, n, "sasl2", "<stream:features/> after <success/>", n.readFeatures)
	if err != nil {
		return nil, err
	}
	neg, err := n.bindSession(ctx, hdr, f2)
	if err != nil {
		return nil, err
	}
	return neg, nil
}

// readSASL2 reads the next SASL2 answer, the one to what (an element
// name). Every wait is bounded by Config.Ping.Timeout: a server whose SASL2
// fails inside its handlers never answers, and the client falls back to RFC
// 6120 SASL (*NoAnswerError, ErrSASL2NoAnswer; see negotiateAt). While an
// inline <resume/> waits for its answer the error is also a *ResumeError,
// as in tryResume: the next try does not resume.
func (n *negotiator) readSASL2(ctx context.Context, resuming bool, what string) ([]byte, root, error) {
	type answer struct {
		elem []byte
		r    root
	}
	a, err := within(ctx, n, "sasl2", "answer to "+what, func(ctx context.Context) (answer, error) {
		elem, r, err := n.readNonStanza(ctx)
		return answer{elem, r}, err
	})
	var na *NoAnswerError
	if resuming && errors.As(err, &na) {
		err = &ResumeError{Err: err}
	}
	return a.elem, a.r, err
}

// refuseContinue aborts an authentication the server wants to continue
// with tasks, and returns the ContinueError to report.
func (n *negotiator) refuseContinue(ctx context.Context, elem []byte) error {
	var v struct {
		Tasks []string `xml:"urn:xmpp:sasl:2 tasks>task"`
		Text  string   `xml:"urn:xmpp:sasl:2 text"`
	}
	if err := xml.Unmarshal(elem, &v); err != nil {
		return &ProtocolError{Step: "sasl2", Msg: "malformed continue", Err: err}
	}
	ce := &ContinueError{Tasks: v.Tasks, Text: n.redactText(v.Text)}
	// Best effort: the attempt ends here whatever the server does with it.
	_ = n.write(ctx, "<abort xmlns='"+nsSASL2+"'><text>no supported task</text></abort>")
	return ce
}

// decodeSASLText decodes base64 SASL data ("=" or nothing is empty).
func decodeSASLText(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "=" {
		return nil, nil
	}
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, &ProtocolError{Step: "sasl2", Msg: "bad base64 in server data", Err: err}
	}
	return data, nil
}
