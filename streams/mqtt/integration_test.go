package mqtt

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func testConfig(b *broker, clientID string) Config {
	return Config{
		URL:            b.url(),
		ClientID:       clientID,
		ConnectTimeout: 2 * time.Second,
		MinBackoff:     50 * time.Millisecond,
		MaxBackoff:     500 * time.Millisecond,
	}
}

func event(members string) string {
	return `{` + members + `"geometry":{"type":"Point","coordinates":[108.22,16.07]},"properties":{"online":true}}`
}

func TestSourceDelivers(t *testing.T) {
	b := startBroker(t)
	rs := startSource(t, testConfig(b, "ioc-test-delivers"), &recorder{})
	pub := newPublisher(t, b)

	pub.publish("ioc/traffic.cameras/cam-1", event(`"layer":"traffic.cameras","id":"cam-1",`), 1)
	pub.publish("ioc/traffic.cameras/cam-2", event(``), 1)
	pub.publish("ioc/traffic.cameras/cam-3", event(`"id":"cam-x",`), 1) // disagrees with the topic
	pub.publish("ioc/traffic.cameras/cam-4", `{"id": oops}`, 1)
	pub.publish("ioc/traffic.cameras", "["+event(`"id":"cam-5",`)+","+event(`"id":"cam-6",`)+"]", 1)
	pub.publish("ioc/traffic.cameras/cam-7", event(``), 0)
	want := []string{"traffic.cameras/cam-1", "traffic.cameras/cam-2", "traffic.cameras/cam-5", "traffic.cameras/cam-6", "traffic.cameras/cam-7"}
	eventually(t, func() bool { return rs.rec.has(want...) }, "events %v, want %v", func() any { return rs.rec.keys() }, want)

	rs.waitMetric("ioc_mqtt_messages_total", 4, "result", "accepted")
	rs.waitMetric("ioc_mqtt_messages_total", 2, "result", "rejected")
	rs.waitMetric("ioc_mqtt_rejected_total", 1, "reason", "topic_mismatch")
	rs.waitMetric("ioc_mqtt_rejected_total", 1, "reason", "invalid_json")
	if got := rs.rec.keys(); len(got) != len(want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if !rs.logs.contains(`reason=topic_mismatch`) || rs.logs.contains(`oops`) {
		t.Errorf("refusals are to be logged at Debug with their reason and never with the payload:\n%s", rs.logs.String())
	}

	// The example of docs/MQTT.md, with the Mosquitto client.
	if _, err := os.Stat("/usr/bin/mosquitto_pub"); err == nil {
		host, port, _ := strings.Cut(b.addr, ":")
		out, err := exec.Command("mosquitto_pub", "-h", host, "-p", port, "-q", "1", "-t", "ioc/feedback.reports/gopy-2026-0001",
			"-m", `{"geometry": {"type": "Point", "coordinates": [108.2208, 16.0678]}, "properties": {"category": "flooded_road"}}`).CombinedOutput()
		if err != nil {
			t.Fatalf("mosquitto_pub: %v: %s", err, out)
		}
		eventually(t, func() bool { return rs.rec.has("feedback.reports/gopy-2026-0001") }, "mosquitto_pub's event did not arrive")
	}
}

func TestSourceBrokerRestart(t *testing.T) {
	b := startBroker(t)
	rs := startSource(t, testConfig(b, "ioc-test-restart"), &recorder{})
	pub := newPublisher(t, b)
	pub.publish("ioc/flood.sensors/s-1", event(``), 1)
	eventually(t, func() bool { return rs.rec.has("flood.sensors/s-1") }, "first event did not arrive")

	b.stop()
	rs.waitMetric("ioc_mqtt_connected", 0)
	b.start()
	rs.waitMetric("ioc_mqtt_subscribed", 1)
	if n := rs.metric("ioc_mqtt_reconnects_total"); n < 1 {
		t.Errorf("reconnects_total = %v after a broker restart", n)
	}

	pub = newPublisher(t, b)
	for i := 2; i <= 4; i++ {
		pub.publish(fmt.Sprintf("ioc/flood.sensors/s-%d", i), event(``), 1)
	}
	eventually(t, func() bool { return rs.rec.has("flood.sensors/s-2", "flood.sensors/s-3", "flood.sensors/s-4") },
		"events after the restart: %v", func() any { return rs.rec.keys() })
}

// TestSessionKeepsMessages: what is published while the IOC is stopped
// waits in its session on the broker, through a broker restart too, and
// arrives when the IOC connects again with the same client ID.
func TestSessionKeepsMessages(t *testing.T) {
	b := startBroker(t)
	cfg := testConfig(b, "ioc-test-session")
	first := startSource(t, cfg, &recorder{})
	first.stop() // a clean disconnect keeps the session

	pub := newPublisher(t, b)
	pub.publish("ioc/lighting.lamps/l-1", event(``), 1)
	pub.publish("ioc/lighting.lamps/l-2", event(``), 1)
	pub.close()
	b.stop()
	b.start()
	newPublisher(t, b).publish("ioc/lighting.lamps/l-3", event(``), 1)

	second := startSource(t, cfg, &recorder{})
	eventually(t, func() bool {
		return second.rec.has("lighting.lamps/l-1", "lighting.lamps/l-2", "lighting.lamps/l-3")
	}, "events kept in the session: %v", func() any { return second.rec.keys() })
	if got := second.rec.keys(); got[0] != "lighting.lamps/l-1" || got[1] != "lighting.lamps/l-2" {
		t.Errorf("events out of order: %v", got)
	}
}

// TestSlowBus: a bus slower than the keep-alive neither drops the
// connection nor loses or reorders QoS 1 messages; the broker holds them
// back (Receive Maximum) while the small queue is busy.
func TestSlowBus(t *testing.T) {
	b := startBroker(t)
	cfg := testConfig(b, "ioc-test-slow")
	cfg.QueueSize, cfg.KeepAlive = 4, time.Second
	rs := startSource(t, cfg, &recorder{delay: 60 * time.Millisecond})
	pub := newPublisher(t, b)
	var want []string
	for i := range 40 {
		pub.publish(fmt.Sprintf("ioc/traffic.buses/b-%02d", i), event(``), 1)
		want = append(want, fmt.Sprintf("traffic.buses/b-%02d", i))
	}
	eventually(t, func() bool { return len(rs.rec.keys()) >= len(want) }, "%d of %d events arrived",
		func() any { return len(rs.rec.keys()) }, len(want))
	if got := strings.Join(rs.rec.keys(), ","); got != strings.Join(want, ",") {
		t.Errorf("events %s, want %v", got, want)
	}
	if n := rs.metric("ioc_mqtt_reconnects_total"); n != 0 {
		t.Errorf("reconnects_total = %v: the slow bus dropped the connection", n)
	}

	// QoS 0 messages beyond half the queue are dropped, and counted.
	for i := range 30 {
		pub.publish(fmt.Sprintf("ioc/traffic.buses/q-%02d", i), event(``), 0)
	}
	eventually(t, func() bool {
		return rs.metric("ioc_mqtt_messages_total", "result", "accepted")+rs.metric("ioc_mqtt_messages_total", "result", "dropped") == 70
	}, "accepted %v + dropped %v != 70", func() any { return rs.metric("ioc_mqtt_messages_total", "result", "accepted") },
		func() any { return rs.metric("ioc_mqtt_messages_total", "result", "dropped") })
	if rs.metric("ioc_mqtt_messages_total", "result", "dropped") == 0 {
		t.Errorf("no QoS 0 message dropped with a full queue")
	}
}
