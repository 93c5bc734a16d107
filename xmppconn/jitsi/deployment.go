package jitsi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/xmppconn"
)

// Config configures what the Jitsi layer does. Its zero value suits a
// standard deployment and behaves as lib-jitsi-meet does. Like the core's
// sub-configurations, a part that can be turned off has a Disabled field.
type Config struct {
	// Focus is the JID that ConferenceRequest sends to (Jicofo's
	// component). Default: focus.<domain>.
	Focus string

	// MachineUID is the machine-uid of conference requests. Default: a
	// random value, fixed for the life of the Deployment.
	MachineUID string

	// RetryMin and RetryMax bound the exponential backoff between
	// conference requests that the focus answers with ready='false':
	// RetryMin, then twice as long each time, at most RetryMax. Default 1 s
	// and 120 s, as lib-jitsi-meet.
	RetryMin, RetryMax time.Duration

	// PropertiesQuery configures the disco#info query of the domain, sent
	// after CONNECTED when the server pushed no properties.
	PropertiesQuery PropertiesQueryConfig

	// ShardCheck configures the WebSocket shard check.
	ShardCheck ShardCheckConfig

	// GracefulShardMove says that the bot reconnects by itself when the
	// deployment moves it to another shard: a moved shard then ends the
	// session with connection.shardChangedError, instead of
	// connection.otherError with shard_changed in the details.
	GracefulShardMove bool

	// Logger receives debug logs. nil discards them.
	Logger *slog.Logger
}

// PropertiesQueryConfig configures the properties query.
type PropertiesQueryConfig struct {
	// Disabled keeps the client from asking the domain for its properties
	// when the server pushed none before CONNECTED.
	Disabled bool
}

// ShardCheckConfig configures the WebSocket shard check: an HTTP GET of the
// endpoint's http(s) form whose x-jitsi-shard header names the shard that
// answers. Checks run only while a shard is known (from the properties or
// the header). BOSH needs none: every response carries the header.
type ShardCheckConfig struct {
	// Disabled turns the check off.
	Disabled bool
	// Interval is the base interval: each check waits this long plus up to
	// as much again. Default 60 s (lib-jitsi-meet's WebSocket keep-alive).
	Interval time.Duration
}

// Defaults of Config.
const (
	DefaultConferenceRetryMin = time.Second
	DefaultConferenceRetryMax = 120 * time.Second
	DefaultShardCheckInterval = 60 * time.Second
)

// withDefaults returns cfg with every default filled in.
func (cfg Config) withDefaults() Config {
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = DefaultConferenceRetryMin
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = DefaultConferenceRetryMax
	}
	cfg.RetryMin = min(cfg.RetryMin, cfg.RetryMax)
	if cfg.ShardCheck.Interval <= 0 {
		cfg.ShardCheck.Interval = DefaultShardCheckInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// Namespaces of the Jitsi semantics.
const (
	nsDiscoInfo = "http://jabber.org/protocol/disco#info"
	nsFocus     = "http://jitsi.org/protocol/focus"
	// NSJitMeet is the namespace of Jitsi Meet's own elements, such as the
	// <displayname-required/> stanza error condition.
	NSJitMeet = "http://jitsi.org/jitmeet"
)

// idPrefix marks the ids of the IQs this package sends, so that it does
// not take their answers for the bot's own.
const idPrefix = "xmppconn-jitsi-"

// queryTimeout bounds a query this package sends on its own (properties,
// lobby) and one WebSocket shard check.
const queryTimeout = 10 * time.Second

// Deployment is what a Connection knows of the Jitsi deployment it is
// connected to, and the calls a Jitsi bot makes there. Make it with Attach;
// its methods are safe for concurrent use.
type Deployment struct {
	c   *xmppconn.Connection
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	props    map[string]string // server properties, identity type -> name; nil until learned
	services []Service         // XEP-0215 services of the last push
	pushed   bool              // a properties push came since the last Up
	uid      string            // machine-uid, made on first use

	shard shardState // the shard the session lives on (shard.go)
}

// Attach adds the Jitsi layer to c: it watches c's stanzas and HTTP
// responses from now on. Attach before Connect, once per Connection.
func Attach(c *xmppconn.Connection, cfg Config) *Deployment {
	cfg = cfg.withDefaults()
	d := &Deployment{c: c, cfg: cfg, log: cfg.Logger}
	c.Extend(xmppconn.Extension{
		Inbound:      d.inbound,
		HTTPResponse: d.httpResponse,
		Up:           d.up,
		Down:         d.down,
	})
	return d
}

// inbound takes what a Jitsi deployment tells in its stanzas. It runs on
// the Connection's processor: nothing here waits for the network.
func (d *Deployment) inbound(s xmppconn.Stanza) {
	switch s.Start.Name.Local {
	case "message":
		d.inboundPush(s)
	case "iq":
		if s.Attr("type") == "result" && !strings.HasPrefix(s.Attr("id"), idPrefix) {
			// The bot's own disco#info of the domain tells the properties
			// too; the answers to this package's queries are taken where
			// they are awaited.
			d.inboundDiscoResult(s)
		}
	case "presence":
		if s.Attr("type") == "error" {
			d.inboundPresenceError(s)
		}
	}
}

// up runs after each CONNECTED, once the stanzas of the negotiation (the
// properties push) were seen.
func (d *Deployment) up(resumed bool) {
	d.streamUp()
	d.propertiesOnUp(resumed)
	d.armShardCheck()
}

// down runs when the live stream goes away.
func (d *Deployment) down() {
	d.stopShardCheck()
}

// isDomain reports whether from is the bare domain of the session.
func isDomain(from string, self jid.JID) bool {
	if from == "" || strings.ContainsAny(from, "@/") {
		return false // not a bare domain: no need to parse it
	}
	if self.Domainpart() == "" {
		return false
	}
	j, err := jid.Parse(from)
	return err == nil && j.Equal(self.Domain())
}

// ask asks to for its disco#info (XEP-0030) on a goroutine of the
// Connection, and hands the answer to use; a failed query is logged.
func (d *Deployment) ask(to jid.JID, use func(*discoInfo)) {
	d.c.Go(func(stream context.Context) {
		info, err := d.discoInfo(stream, to)
		if err != nil {
			d.log.Debug("jitsi: disco#info query", "to", to.String(), "err", err)
			return
		}
		use(info)
	})
}

// discoInfo asks to for its disco#info (XEP-0030), bounded by ctx and
// queryTimeout.
func (d *Deployment) discoInfo(ctx context.Context, to jid.JID) (*discoInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	iq := stanza.IQ{ID: newID(), Type: stanza.GetIQ, To: to}
	s, err := d.c.SendIQ(ctx, iq, element(nsDiscoInfo, "query", nil))
	if err != nil {
		return nil, err
	}
	info, _, err := parseDiscoPayload(s.Raw)
	if err == nil && info == nil {
		err = errors.New("jitsi: disco#info result without a query")
	}
	return info, err
}

// newID returns a random id for an IQ of this package.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return idPrefix + hex.EncodeToString(b[:])
}
