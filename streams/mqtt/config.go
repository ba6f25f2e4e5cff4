package mqtt

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config configures the MQTT source. Only URL is required; see the field
// comments for defaults.
type Config struct {
	// URL is the broker: tcp://host:port (also mqtt://), tls://host:port
	// (also ssl://, mqtts://), ws:// or wss://, optionally with
	// user:password@ (used when Username is empty). The broker must speak
	// MQTT 5 (Mosquitto 1.6 and later, EMQX, HiveMQ, VerneMQ, NanoMQ).
	URL string
	// Topics are the topic filters subscribed to. Default ["ioc/#"].
	Topics []string
	// TopicPrefix is where the topic tree <prefix><layer>/<id> starts.
	// Topics under it give the layer and id of events that lack them;
	// topics outside it give neither. Default "ioc/".
	TopicPrefix string
	// ClientID names the session on the broker, so it must be stable across
	// restarts (for the broker to keep what arrives while the IOC is down)
	// and unique among the broker's clients (a second client with the same
	// ID takes the session over). Default "iocd-" + the host name.
	ClientID string
	// QoS of the subscriptions: 1 (the default; 0 means 1) or 2. Messages
	// are delivered at the lower of this and the publisher's QoS.
	QoS byte
	// Username and Password, when Username is set, authenticate the
	// client; they win over those of URL.
	Username, Password string
	// TLS configures tls:// and wss:// connections; nil uses the system's
	// roots.
	TLS *tls.Config
	// KeepAlive is the MQTT keep-alive period. Default 30 s.
	KeepAlive time.Duration
	// ConnectTimeout bounds one connection attempt. Default 10 s.
	ConnectTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between failed connection
	// attempts, which doubles from MinBackoff up to MaxBackoff, each wait
	// drawn at random between half and all of it. The first attempt after
	// a lost connection is immediate. Defaults 500 ms and 30 s.
	MinBackoff, MaxBackoff time.Duration
	// SessionExpiry is how long the broker keeps the session (the
	// subscriptions and the QoS 1/2 messages for them) while the IOC is
	// disconnected. Default 1 hour.
	SessionExpiry time.Duration
	// QueueSize bounds the messages received and not yet processed.
	// Half of it is the MQTT 5 Receive Maximum: how many unacknowledged
	// QoS 1/2 messages the broker may send ahead. Default 256.
	QueueSize int
	// MaxPacketSize is the largest MQTT packet accepted, in bytes; the
	// broker does not send larger messages to the IOC. Default 4 MiB.
	MaxPacketSize int
	// Entities decodes NGSI-LD entity payloads; nil refuses them with the
	// reason unsupported_payload.
	Entities EntityDecoder
}

// Schemes the source connects with.
var schemes = map[string]bool{
	"tcp": true, "mqtt": true, "tls": true, "ssl": true, "mqtts": true, "ws": true, "wss": true,
}

// Validate checks the configuration; Run calls it first.
func (c Config) Validate() error {
	if _, err := c.brokerURL(); err != nil {
		return err
	}
	if c.QoS > 2 {
		return fmt.Errorf("mqtt: QoS %d: want 1 or 2", c.QoS)
	}
	for _, t := range c.Topics {
		if err := checkFilter(t); err != nil {
			return fmt.Errorf("mqtt: topic filter %q: %w", t, err)
		}
	}
	if c.QueueSize < 0 || c.MaxPacketSize < 0 {
		return errors.New("mqtt: QueueSize and MaxPacketSize must not be negative")
	}
	return nil
}

func (c Config) brokerURL() (*url.URL, error) {
	if c.URL == "" {
		return nil, errors.New("mqtt: no broker URL (e.g. tcp://localhost:1883)")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a password
		}
		return nil, fmt.Errorf("mqtt: broker URL: %w", err)
	}
	if !schemes[strings.ToLower(u.Scheme)] || u.Host == "" {
		return nil, fmt.Errorf("mqtt: broker URL %q: want tcp://host:port (or mqtt, tls, ssl, mqtts, ws, wss)", u.Redacted())
	}
	return u, nil
}

// checkFilter applies MQTT's rules for topic filters: not empty, '#' only
// as the whole last level, '+' only as a whole level.
func checkFilter(f string) error {
	if f == "" {
		return errors.New("empty")
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		if strings.Contains(l, "#") && (l != "#" || i != len(levels)-1) {
			return errors.New("'#' must be the whole last level")
		}
		if strings.Contains(l, "+") && l != "+" {
			return errors.New("'+' must be a whole level")
		}
	}
	return nil
}

func (c *Config) defaults() {
	if u, err := c.brokerURL(); err == nil && c.Username == "" && u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if len(c.Topics) == 0 {
		c.Topics = []string{"ioc/#"}
	}
	if c.TopicPrefix == "" {
		c.TopicPrefix = "ioc/"
	}
	if !strings.HasSuffix(c.TopicPrefix, "/") {
		c.TopicPrefix += "/"
	}
	if c.ClientID == "" {
		host, _ := os.Hostname()
		c.ClientID = "iocd-" + host
	}
	if c.QoS == 0 {
		c.QoS = 1
	}
	setDefault(&c.KeepAlive, 30*time.Second)
	setDefault(&c.ConnectTimeout, 10*time.Second)
	setDefault(&c.MinBackoff, 500*time.Millisecond)
	setDefault(&c.MaxBackoff, 30*time.Second)
	c.MaxBackoff = max(c.MaxBackoff, c.MinBackoff)
	setDefault(&c.SessionExpiry, time.Hour)
	if c.QueueSize <= 0 {
		c.QueueSize = 256
	}
	c.QueueSize = max(c.QueueSize, 2)
	if c.MaxPacketSize <= 0 {
		c.MaxPacketSize = 4 << 20
	}
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

// receiveMaximum is the MQTT 5 Receive Maximum: half of the queue, so that
// QoS 1/2 messages always find room (see Source).
func (c *Config) receiveMaximum() uint16 {
	return uint16(min(c.QueueSize/2, math.MaxUint16))
}

// sessionExpirySeconds is SessionExpiry for the CONNECT packet; the
// largest value, 0xFFFFFFFF, would mean never, so it stops just short.
func (c *Config) sessionExpirySeconds() uint32 {
	return uint32(min(c.SessionExpiry/time.Second, math.MaxUint32-1))
}

func (c *Config) keepAliveSeconds() uint16 {
	return uint16(max(1, min(c.KeepAlive/time.Second, math.MaxUint16)))
}

// backoff is the wait before connection attempt n of a series (0 is the
// first, made at once): exponential from MinBackoff, capped at MaxBackoff,
// with "equal jitter" so that many IOC nodes do not reconnect in step.
func (c *Config) backoff(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	d := c.MinBackoff
	for i := 1; i < n && d < c.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.MaxBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}
