package jitsi

import (
	"encoding/xml"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// Properties returns the server properties learned from the deployment (a
// copy): the name of every identity of category "server" in Jitsi's
// properties push or in a disco#info result of the domain, by identity type
// ("shard", "region", "release", and others such as the server software's
// "im"). Only a query with a shard, region or release identity counts. It is
// empty until the first PropertiesUpdated.
func (d *Deployment) Properties() map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]string, len(d.props))
	maps.Copy(out, d.props)
	return out
}

// Services returns the STUN and TURN services (XEP-0215) of the last
// properties push, or nil when none came. Their credentials are secrets:
// do not log them.
func (d *Deployment) Services() []Service {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Service(nil), d.services...)
}

// Service is one external STUN or TURN service of a XEP-0215 <services/>
// list, as Jitsi's Prosody pushes it with the properties.
type Service struct {
	Type       string    // "stun", "turn", "turns"
	Host       string    // host name or address
	Port       int       // 0 when not given
	Transport  string    // "udp" or "tcp", if given
	Username   string    // TURN user name, if any
	Password   string    // TURN credential, if any: a secret
	Expires    time.Time // when the credential expires; zero when not given
	Restricted bool      // the credential is short-lived
}

// String describes the service without its password.
func (s Service) String() string {
	return fmt.Sprintf("%s:%s:%d/%s", s.Type, s.Host, s.Port, s.Transport)
}

// discoInfo is a disco#info <query/> (XEP-0030): identities and features.
type discoInfo struct {
	Identities []identity
	Features   []string
}

// identity is a disco#info identity.
type identity struct {
	Category, Type, Name string
}

// hasFeature reports whether the query lists the feature var.
func (d *discoInfo) hasFeature(v string) bool {
	for _, f := range d.Features {
		if f == v {
			return true
		}
	}
	return false
}

// deploymentTypes are the identity types that make a query a deployment's
// properties (Jitsi's shard, region and release).
var deploymentTypes = []string{"shard", "region", "release"}

// serverProperties returns the identities of category "server" as identity
// type -> name (later duplicates win), when one of them is of type shard,
// region or release. It returns nil otherwise: a server that tells only
// its software ("im": "Prosody") has no deployment properties.
func (d *discoInfo) serverProperties() map[string]string {
	m := make(map[string]string)
	for _, id := range d.Identities {
		if id.Category == "server" && id.Type != "" {
			m[id.Type] = id.Name
		}
	}
	for _, t := range deploymentTypes {
		if _, ok := m[t]; ok {
			return m
		}
	}
	return nil
}

// discoPayload is what the properties push or a disco#info result carries.
type discoPayload struct {
	Query *struct {
		Identities []struct {
			Category string `xml:"category,attr"`
			Type     string `xml:"type,attr"`
			Name     string `xml:"name,attr"`
		} `xml:"identity"`
		Features []struct {
			Var string `xml:"var,attr"`
		} `xml:"feature"`
	} `xml:"http://jabber.org/protocol/disco#info query"`
	Services *struct {
		Services []struct {
			Type       string `xml:"type,attr"`
			Host       string `xml:"host,attr"`
			Port       string `xml:"port,attr"`
			Transport  string `xml:"transport,attr"`
			Username   string `xml:"username,attr"`
			Password   string `xml:"password,attr"`
			Expires    string `xml:"expires,attr"`
			Restricted string `xml:"restricted,attr"`
		} `xml:"service"`
	} `xml:"urn:xmpp:extdisco:2 services"`
}

// parseDiscoPayload reads the disco#info <query/> and the XEP-0215
// <services/> children of a serialized stanza (the properties <message/>, or
// an <iq/> result). Either may be absent: info is nil without a query,
// services nil without a services list. Malformed XML gives a
// *xmppconn.ProtocolError; a service's unreadable port or expiry is left
// zero.
func parseDiscoPayload(elem []byte) (info *discoInfo, services []Service, err error) {
	var v discoPayload
	if err := xml.Unmarshal(elem, &v); err != nil {
		return nil, nil, &xmppconn.ProtocolError{Step: "disco#info", Msg: "malformed stanza", Err: err}
	}
	if q := v.Query; q != nil {
		info = &discoInfo{}
		for _, id := range q.Identities {
			info.Identities = append(info.Identities, identity{Category: id.Category, Type: id.Type, Name: id.Name})
		}
		for _, f := range q.Features {
			if f.Var != "" {
				info.Features = append(info.Features, f.Var)
			}
		}
	}
	if v.Services != nil {
		services = []Service{}
		for _, s := range v.Services.Services {
			svc := Service{
				Type:       s.Type,
				Host:       s.Host,
				Transport:  s.Transport,
				Username:   s.Username,
				Password:   s.Password,
				Restricted: s.Restricted == "1" || s.Restricted == "true",
			}
			if p, err := strconv.ParseUint(s.Port, 10, 16); err == nil {
				svc.Port = int(p)
			}
			if t, err := time.Parse(time.RFC3339, s.Expires); err == nil {
				svc.Expires = t
			}
			services = append(services, svc)
		}
	}
	return info, services, nil
}

// inboundPush handles a <message/> from the domain: Jitsi's properties push
// (a disco#info query, and the TURN/STUN services).
func (d *Deployment) inboundPush(s xmppconn.Stanza) {
	if s.Attr("type") == "error" || !isDomain(s.Attr("from"), d.c.JID()) {
		return
	}
	info, services, err := parseDiscoPayload(s.Raw)
	if err != nil {
		d.log.Debug("jitsi: ignoring a malformed message from the domain", "err", err)
		return
	}
	if info == nil && services == nil {
		return
	}
	d.mu.Lock()
	if info != nil {
		d.pushed = true
	}
	if services != nil {
		d.services = services
	}
	d.mu.Unlock()
	if info != nil {
		d.applyDiscoInfo(info)
	}
}

// inboundDiscoResult handles an IQ result of the domain that this package
// did not ask for: a disco#info result (the bot's own query, say) tells the
// properties too.
func (d *Deployment) inboundDiscoResult(s xmppconn.Stanza) {
	if !isDomain(s.Attr("from"), d.c.JID()) {
		return
	}
	info, _, err := parseDiscoPayload(s.Raw)
	if err != nil {
		d.log.Debug("jitsi: ignoring a malformed disco#info result", "err", err)
		return
	}
	if info != nil {
		d.applyDiscoInfo(info)
	}
}

// applyDiscoInfo takes in what a disco#info query of the domain tells: the
// server properties (PropertiesUpdated) and the lobby (DisplayNameRequired).
func (d *Deployment) applyDiscoInfo(info *discoInfo) {
	if props := info.serverProperties(); props != nil {
		d.mu.Lock()
		d.props = props
		d.mu.Unlock()
		d.c.Emit(events.Properties{Properties: maps.Clone(props)})
		d.learnShard(props["shard"])
	}
	d.checkLobby(info)
}

// propertiesOnUp asks the domain for its properties when this session got
// no push: always after a new bind, after a resumption only when nothing is
// known yet. The query runs on a goroutine of the Connection: Connect
// returns at the bound JID, and the query costs the caller nothing.
func (d *Deployment) propertiesOnUp(resumed bool) {
	d.mu.Lock()
	pushed, known := d.pushed, d.props != nil
	d.pushed = false
	d.mu.Unlock()
	if d.cfg.PropertiesQuery.Disabled || pushed || (resumed && known) {
		return
	}
	domain := d.c.JID().Domain()
	if domain.Domainpart() == "" {
		return
	}
	d.ask(domain, d.applyDiscoInfo)
}
