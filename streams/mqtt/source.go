// Package mqtt is the MQTT source: it subscribes to a broker and hands
// every message, as events, to the streams Intake, the path all sources
// share. See docs/MQTT.md for the topic tree, payloads and guarantees.
//
// # Delivery
//
// The source speaks MQTT 5 with a persistent session (Clean Start never
// set, so the broker resumes the client ID's session; a Session Expiry
// Interval) and subscribes at QoS 1. A QoS 1/2 message is acknowledged only after it was
// processed: its events published to the bus, or refused. So a message
// the broker accepted for the session is processed at least once, through
// broker restarts (when the broker persists its sessions) and IOC restarts
// (within the session expiry), or it was refused with a reason. A message
// whose processing was cut short by a lost connection or a shutdown is
// delivered again, so an event may be applied twice; the layers keep the
// newest observation per entity, so a repeat leaves the same state.
//
// # Flow control
//
// The MQTT client hands messages to a bounded queue and returns at once;
// one worker empties it in order, so messages on a topic are applied in
// the order the broker sent them. The source announces a Receive Maximum
// of half the queue: the broker sends no more unacknowledged QoS 1/2
// messages than that, so they always find room, and a slow bus holds the
// rest on the broker (backpressure) rather than losing them. QoS 0
// messages take the other half; when it is full they are dropped and
// counted as dropped, as QoS 0 allows, so that a flood of them can neither
// stall the connection nor crowd out QoS 1 messages.
package mqtt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/danang-ioc/ioc/streams"
)

// Source is the MQTT source. Build it with New and run it with Run.
type Source struct {
	cfg    Config
	parser parser
	intake *streams.Intake
	log    *slog.Logger
	m      *metrics

	// queue holds received messages until the worker processes them.
	queue     chan item
	qos0Limit int         // QoS 0 messages are dropped when the queue holds this many
	wasUp     atomic.Bool // a connection was made before: the next one is a reconnect

	// conn numbers connections and losses, so that a subscription granted
	// on a connection already lost does not show as current.
	connMu sync.Mutex
	conn   uint64
}

// item is one received message and the client connection it came on,
// which acknowledges it.
type item struct {
	cli *paho.Client
	pub *paho.Publish
}

// New builds the source. dec validates native events (nil: a Decoder with
// defaults); the events go to intake; metrics are registered with reg
// when it is not nil; log nil discards.
func New(cfg Config, dec *streams.Decoder, intake *streams.Intake, reg prometheus.Registerer, log *slog.Logger) *Source {
	cfg.defaults()
	if dec == nil {
		dec = streams.NewDecoder(streams.DecoderConfig{})
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Source{
		cfg:       cfg,
		parser:    parser{dec: dec, prefix: cfg.TopicPrefix, entities: cfg.Entities},
		intake:    intake,
		log:       log.With("component", "mqtt"),
		queue:     make(chan item, cfg.QueueSize),
		qos0Limit: cfg.QueueSize - int(cfg.receiveMaximum()),
	}
	s.m = newMetrics(reg, s.queue)
	return s
}

// Run connects to the broker, subscribes and processes messages until ctx
// ends, reconnecting (and subscribing again) whenever the connection is
// lost. It then disconnects cleanly, keeping the session on the broker,
// and returns nil. It fails only on an invalid Config. Messages still
// queued at the end are left unacknowledged: the broker delivers their
// QoS 1/2 ones again on the next connection.
func (s *Source) Run(ctx context.Context) error {
	if err := s.cfg.Validate(); err != nil {
		return err
	}
	u, _ := s.cfg.brokerURL()
	u.User = nil // given in the CONNECT packet, not to be logged
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { s.work(ctx) })
	cm, err := autopaho.NewConnection(ctx, s.clientConfig(ctx, u, &wg))
	if err != nil {
		cancel()
		wg.Wait()
		return err
	}
	s.log.Info("mqtt source starting", "broker", u.Redacted(), "topics", s.cfg.Topics, "client_id", s.cfg.ClientID)
	<-ctx.Done()
	<-cm.Done()
	wg.Wait()
	s.m.connected.Set(0)
	s.m.subscribed.Set(0)
	s.log.Info("mqtt source stopped")
	return nil
}

func (s *Source) clientConfig(ctx context.Context, u *url.URL, wg *sync.WaitGroup) autopaho.ClientConfig {
	c := &s.cfg
	return autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		TlsCfg:                        c.TLS,
		KeepAlive:                     c.keepAliveSeconds(),
		CleanStartOnInitialConnection: false,
		SessionExpiryInterval:         c.sessionExpirySeconds(),
		ReconnectBackoff:              c.backoff,
		ConnectTimeout:                c.ConnectTimeout,
		ConnectUsername:               c.Username,
		ConnectPassword:               []byte(c.Password),
		ConnectPacketBuilder: func(cp *paho.Connect, _ *url.URL) (*paho.Connect, error) {
			if cp.Properties == nil {
				cp.Properties = &paho.ConnectProperties{}
			}
			rm, size := c.receiveMaximum(), uint32(c.MaxPacketSize)
			cp.Properties.ReceiveMaximum, cp.Properties.MaximumPacketSize = &rm, &size
			return cp, nil
		},
		OnConnectionUp: func(cm *autopaho.ConnectionManager, ca *paho.Connack) {
			conn := s.connectionUp(ca)
			wg.Go(func() { s.subscribe(ctx, cm, conn) })
		},
		OnConnectionDown: func() bool {
			s.connMu.Lock()
			s.conn++
			s.m.connected.Set(0)
			s.m.subscribed.Set(0)
			s.connMu.Unlock()
			s.log.Warn("mqtt connection lost; reconnecting")
			return true
		},
		OnConnectError: func(err error) {
			s.m.connectErrors.Inc()
			s.log.Warn("mqtt connect failed", "error", err)
		},
		Errors:     logger{s.log},
		PahoErrors: logger{s.log},
		ClientConfig: paho.ClientConfig{
			ClientID:                   c.ClientID,
			OnPublishReceived:          []func(paho.PublishReceived) (bool, error){s.receiver(ctx)},
			EnableManualAcknowledgment: true,
			SendAcksInterval:           10 * time.Millisecond,
		},
	}
}

// connectionUp counts a connection and returns its number.
func (s *Source) connectionUp(ca *paho.Connack) uint64 {
	s.connMu.Lock()
	s.conn++
	conn := s.conn
	s.m.connected.Set(1)
	s.connMu.Unlock()
	reconnect := s.wasUp.Swap(true)
	if reconnect {
		s.m.reconnects.Inc()
	}
	s.log.Info("mqtt connected", "reconnect", reconnect, "session_present", ca.SessionPresent)
	if reconnect && !ca.SessionPresent {
		s.log.Warn("mqtt broker kept no session: messages published while disconnected were not kept for the IOC")
	}
	return conn
}

// subscribe (again) to every topic filter. A broker that kept the session
// still has the subscriptions; subscribing again is harmless, and the
// retain handling sends retained messages only for new subscriptions.
func (s *Source) subscribe(ctx context.Context, cm *autopaho.ConnectionManager, conn uint64) {
	sub := &paho.Subscribe{}
	for _, t := range s.cfg.Topics {
		sub.Subscriptions = append(sub.Subscriptions, paho.SubscribeOptions{Topic: t, QoS: s.cfg.QoS, RetainHandling: 1})
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
	defer cancel()
	if _, err := cm.Subscribe(ctx, sub); err != nil {
		if ctx.Err() == nil && !errors.Is(err, autopaho.ConnectionDownError) {
			s.log.Error("mqtt subscribe failed", "topics", s.cfg.Topics, "error", err)
		}
		return
	}
	s.connMu.Lock()
	if s.conn == conn {
		s.m.subscribed.Set(1)
	}
	s.connMu.Unlock()
	s.log.Info("mqtt subscribed", "topics", s.cfg.Topics, "qos", s.cfg.QoS)
}

// receiver returns the client's message handler. It only queues: QoS 1/2
// messages wait for room (which the Receive Maximum keeps them from
// needing), QoS 0 ones are dropped when their half of the queue is full.
func (s *Source) receiver(ctx context.Context) func(paho.PublishReceived) (bool, error) {
	return func(pr paho.PublishReceived) (bool, error) {
		it := item{cli: pr.Client, pub: pr.Packet}
		if it.pub.QoS == 0 {
			if len(s.queue) >= s.qos0Limit {
				s.m.messages.WithLabelValues(resultDropped).Inc()
				return true, nil
			}
			select {
			case s.queue <- it:
			default:
				s.m.messages.WithLabelValues(resultDropped).Inc()
			}
			return true, nil
		}
		select {
		case s.queue <- it:
		case <-ctx.Done():
		}
		return true, nil
	}
}

// work processes queued messages in order until ctx ends.
func (s *Source) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case it := <-s.queue:
			s.process(ctx, it)
		}
	}
}

// process decodes one message, submits its events and acknowledges it,
// unless the source is stopping, which leaves it to be delivered again.
func (s *Source) process(ctx context.Context, it item) {
	b := s.parser.message(it.pub.Topic, it.pub.Payload)
	err := s.intake.Submit(ctx, b)
	if err != nil && ctx.Err() != nil {
		return
	}
	result := s.m.batch(b, err)
	if err != nil {
		s.log.Warn("mqtt message failed: the bus refused its events", "topic", it.pub.Topic, "events", len(b.Events), "error", err)
	}
	if len(b.Rejected) > 0 && s.log.Enabled(ctx, slog.LevelDebug) {
		r := b.Rejected[0]
		s.log.Debug("mqtt message refused", "topic", it.pub.Topic, "result", result, "reason", r.Reason,
			"error", r.Error, "index", r.Index, "refused", len(b.Rejected), "events", b.Len())
	}
	if it.pub.QoS > 0 {
		// After a reconnect the old connection cannot acknowledge any more;
		// the broker then delivers the message again.
		_ = it.cli.Ack(it.pub)
	}
}

// logger adapts paho's error logging to slog, at Debug: the source logs
// what matters itself.
type logger struct{ log *slog.Logger }

func (l logger) Println(v ...any) { l.log.Debug("paho", "msg", fmt.Sprint(v...)) }

func (l logger) Printf(format string, v ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.log.Debug("paho", "msg", fmt.Sprintf(format, v...))
	}
}
